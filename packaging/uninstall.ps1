<#
.SYNOPSIS
  Stop Watchkeeper, remove its start-at-login registration (task and/or Run key) and, with
  -RemoveFiles, the installed exe. Your data (%LOCALAPPDATA%\Watchkeeper) is kept unless -RemoveData.

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File packaging\uninstall.ps1
#>
[CmdletBinding()]
param(
    [string]$InstallDir = (Join-Path $env:LOCALAPPDATA "Programs\Watchkeeper"),
    [string]$Exe = "",
    [switch]$RemoveFiles,
    [switch]$RemoveData
)
$ErrorActionPreference = "Stop"
if (-not $Exe) { $Exe = Join-Path $InstallDir "watchkeeper.exe" }
if (-not (Test-Path -LiteralPath $Exe)) { throw "watchkeeper.exe not found at $Exe (pass -Exe PATH)" }

function Invoke-Watchkeeper([string]$Path, [string[]]$Arguments) {
    $out = [System.IO.Path]::GetTempFileName()
    $err = [System.IO.Path]::GetTempFileName()
    try {
        $p = Start-Process -FilePath $Path -ArgumentList $Arguments -Wait -PassThru -NoNewWindow `
            -RedirectStandardOutput $out -RedirectStandardError $err
        [pscustomobject]@{ ExitCode = $p.ExitCode; Stdout = (Get-Content -Raw $out); Stderr = (Get-Content -Raw $err) }
    } finally {
        Remove-Item -Force $out, $err -ErrorAction SilentlyContinue
    }
}

Invoke-Watchkeeper $Exe @("stop") | Out-Null
$r = Invoke-Watchkeeper $Exe @("startup", "uninstall", "--json")
if ($r.ExitCode -ne 0) {
    Write-Error "watchkeeper startup uninstall failed ($($r.ExitCode)): $($r.Stderr) $($r.Stdout)"
    exit 1
}
$result = $r.Stdout | ConvertFrom-Json
Write-Host "Start at login: $($result.message)"

if ($RemoveData) {
    Remove-Item -Recurse -Force (Join-Path $env:LOCALAPPDATA "Watchkeeper") -ErrorAction SilentlyContinue
    Remove-Item -Recurse -Force (Join-Path $env:APPDATA "Watchkeeper") -ErrorAction SilentlyContinue
    Write-Host "Removed Watchkeeper's config, data and logs."
}
if ($RemoveFiles) {
    Remove-Item -Force -LiteralPath $Exe
    if ((Get-ChildItem -LiteralPath $InstallDir -ErrorAction SilentlyContinue | Measure-Object).Count -eq 0) {
        Remove-Item -LiteralPath $InstallDir -ErrorAction SilentlyContinue
    }
    Write-Host "Removed $Exe."
}
