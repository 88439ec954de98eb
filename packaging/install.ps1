<#
.SYNOPSIS
  Install Watchkeeper for the current user and make it start at login. No administrator rights.

.DESCRIPTION
  Copies watchkeeper.exe to %LOCALAPPDATA%\Programs\Watchkeeper (unless -InPlace), then runs
  `watchkeeper.exe startup install --json`: the exe registers a Task Scheduler task for this user
  (logon trigger, runs on battery, no time limit, restart on failure) or, when Task Scheduler
  refuses, the per-user Run registry key. Never both. The exe is the one implementation; this
  script only copies, calls it and reports. Finally starts Watchkeeper unless -NoStart.

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File packaging\install.ps1 -Exe dist\watchkeeper.exe
#>
[CmdletBinding()]
param(
    [string]$Exe = (Join-Path $PSScriptRoot "watchkeeper.exe"),
    [string]$InstallDir = (Join-Path $env:LOCALAPPDATA "Programs\Watchkeeper"),
    [switch]$InPlace,
    [switch]$NoStart
)
$ErrorActionPreference = "Stop"

if (-not (Test-Path -LiteralPath $Exe)) {
    if (Test-Path -LiteralPath (Join-Path $PSScriptRoot "..\dist\watchkeeper.exe")) {
        $Exe = Join-Path $PSScriptRoot "..\dist\watchkeeper.exe"
    } else {
        throw "watchkeeper.exe not found at $Exe (build it: pyinstaller --noconfirm --clean pyinstaller.spec)"
    }
}
$Exe = (Resolve-Path -LiteralPath $Exe).Path

# Run the (windowed) exe, wait for it, capture its output and exit code.
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

if (-not $InPlace) {
    New-Item -ItemType Directory -Force -Path $InstallDir | Out-Null
    $target = Join-Path $InstallDir "watchkeeper.exe"
    if ($Exe -ne $target) {
        # A running copy locks the file: ask it to stop first (no-op when none runs).
        if (Test-Path -LiteralPath $target) { Invoke-Watchkeeper $target @("stop") | Out-Null }
        Copy-Item -LiteralPath $Exe -Destination $target -Force
    }
    $Exe = $target
}

$r = Invoke-Watchkeeper $Exe @("startup", "install", "--json")
if ($r.ExitCode -ne 0) {
    Write-Error "watchkeeper startup install failed ($($r.ExitCode)): $($r.Stderr) $($r.Stdout)"
    exit 1
}
$result = $r.Stdout | ConvertFrom-Json
switch ($result.method) {
    "task-scheduler" { Write-Host "Start at login: Task Scheduler task '$($result.location)'." }
    "run-key"        { Write-Host "Start at login: per-user Run key (Task Scheduler refused: $($result.fallback_reason))." }
    default          { Write-Host "Start at login: $($result.method)" }
}
Write-Host "  starts: $($result.command)"

if (-not $NoStart) {
    Start-Process -FilePath $Exe -ArgumentList "run" -WorkingDirectory (Split-Path $Exe)
    Write-Host "Watchkeeper started ($Exe)."
}
