// Idle warning: the server ends a session after its idle time; this says so ahead of time and offers
// to extend it (the same form works without JavaScript: it posts and comes back to the page).
(() => {
  const body = document.body;
  const warning = document.getElementById("session-warning");
  const form = document.getElementById("session-extend");
  if (!warning || !form || !body.dataset.secondsLeft) return;
  const warnAt = Number(body.dataset.warningSeconds);
  let deadline = Date.now() + Number(body.dataset.secondsLeft) * 1000;
  const tick = () => {
    const left = (deadline - Date.now()) / 1000;
    if (left <= 0) {
      window.location.assign("/console/sign-in?ended=idle");
      return;
    }
    warning.hidden = left > warnAt;
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const response = await fetch(form.action, { method: "POST", headers: { accept: "application/json" }, body: new URLSearchParams(new FormData(form)) });
    if (!response.ok || !(response.headers.get("content-type") ?? "").includes("json")) {
      window.location.assign("/console/sign-in?ended=idle");
      return;
    }
    deadline = Date.now() + (await response.json()).secondsLeft * 1000;
    warning.hidden = true;
  });
  setInterval(tick, 1000);
  tick();
})();
