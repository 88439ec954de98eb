// The dashboard's login page: take the one-time token from the URL fragment (never sent to a
// server, removed from the address bar and history at once), trade it for the session cookie
// (POST /ui/session, same origin, with the X-WK-UI header) and go to the Overview.
const status = document.getElementById("login-status");
const LOCKED = "Locked: open the dashboard from the Watchkeeper tray menu (or run `watchkeeper dashboard`).";

function say(text) {
  if (status) status.textContent = text;
}

async function signIn() {
  const token = new URLSearchParams(location.hash.slice(1)).get("t");
  history.replaceState(null, "", "/ui/login");
  if (!token) {
    const probe = await fetch("/ui/session", { credentials: "same-origin" });
    if (probe.status === 204) location.replace("/ui/");
    else say(LOCKED);
    return;
  }
  const answer = await fetch("/ui/session", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-WK-UI": "1" },
    body: JSON.stringify({ token }),
  });
  if (answer.status === 204) {
    location.replace("/ui/");
    return;
  }
  say("This login link was already used or has expired. " + LOCKED);
}

signIn().catch(() => say("Signing in failed: is Watchkeeper still running? " + LOCKED));
