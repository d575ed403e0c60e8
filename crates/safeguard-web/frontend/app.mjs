// Starts GOV.UK Frontend's components (the service navigation's menu button, the error
// summary's focus, ...). Every page works without it; a browser that runs modules gets the
// enhancements.
import { initAll } from "/assets/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
