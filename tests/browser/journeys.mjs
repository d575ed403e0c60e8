// Journeys through Safeguard's pages as its users make them, in Debian's Chromium driven by
// Playwright: each step checks what a person would see, runs axe-core on the page (no serious
// or critical violation may pass), and saves a screenshot at desktop and phone width.
//
//   node journeys.mjs BASE_URL DEMO_CHILD_ID
//
// The server is a `safeguard demo` started by scripts/browser-test.
import { chromium } from "playwright-core";
import { readFileSync, mkdirSync } from "node:fs";
import assert from "node:assert/strict";

const [base, child] = process.argv.slice(2);
if (!base || !child) {
  console.error("usage: node journeys.mjs BASE_URL DEMO_CHILD_ID");
  process.exit(2);
}
const password = "safeguard-demo-2007";
const artefacts = new URL("./artefacts/", import.meta.url).pathname;
mkdirSync(artefacts, { recursive: true });
const axeSource = readFileSync(
  new URL("./node_modules/axe-core/axe.min.js", import.meta.url),
  "utf8",
);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

const failures = [];
let pagesChecked = 0;

/** Runs axe-core on the page; serious and critical violations fail the run. */
async function checkAccessibility(page, name) {
  // Through the debugging protocol, which the pages' Content Security Policy does not cover
  // (the pages themselves run no inline script).
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
    }));
  });
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of bad) {
    failures.push(`${name}: axe ${v.impact} ${v.id} (${v.help}) at ${v.targets.join(", ")}`);
  }
  pagesChecked += 1;
}

/** Saves the page at desktop width and at 375 px, checking that the phone width does not scroll sideways. */
async function look(page, name) {
  await checkAccessibility(page, name);
  await page.screenshot({ path: `${artefacts}${name}-1280.png`, fullPage: true });
  const size = page.viewportSize();
  await page.setViewportSize({ width: 375, height: 800 });
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  if (overflow > 0) {
    failures.push(`${name}: at 375 px the page scrolls sideways by ${overflow} px`);
  }
  await page.screenshot({ path: `${artefacts}${name}-375.png`, fullPage: true });
  await page.setViewportSize(size);
}

async function signIn(page, user) {
  await page.goto(`${base}/sign-in`);
  await page.getByLabel("User name").fill(user);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/sign-in"));
}

async function signOut(page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(`${base}/sign-in`);
}

/** Presses Tab until `reached(arg)` holds in the page, as a keyboard user moves through it. */
async function tabTo(page, reached, arg, limit = 120) {
  for (let i = 0; i < limit; i += 1) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(reached, arg)) return;
  }
  throw new Error(`Tab never reached ${JSON.stringify(arg)}`);
}

const focusedId = (id) => document.activeElement && document.activeElement.id === id;
const focusedLink = (part) =>
  document.activeElement && (document.activeElement.getAttribute("href") || "").includes(part);
const focusedButton = (text) =>
  document.activeElement &&
  document.activeElement.tagName === "BUTTON" &&
  document.activeElement.textContent.trim().startsWith(text);

async function step(name, f) {
  try {
    await f();
    console.log(`ok   ${name}`);
  } catch (e) {
    failures.push(`${name}: ${e.message.split("\n")[0]}`);
    console.log(`FAIL ${name}`);
  }
}

const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();

await step("sign-in: a wrong password is an error summary linked to the field", async () => {
  await page.goto(`${base}/sign-in`);
  await page.getByLabel("User name").fill("practitioner@northbury-childrens-services");
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForSelector(".govuk-error-summary");
  assert.match(await page.title(), /^Error: /);
  await look(page, "sign-in-error");
});

await step("sign-in as the demo child's lead professional", async () => {
  await signIn(page, "practitioner@northbury-childrens-services");
  assert.ok(await page.getByRole("heading", { name: "Find a person" }).isVisible());
  await look(page, "search");
  // Search forgives: a letter missing, the names the other way round, a nickname.
  for (const typed of ["Josua Reve", "Reeve Joshua", "Josh Reeve"]) {
    await page.getByLabel("Name, date of birth, NHS number or postcode").fill(typed);
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/q=/);
    const first = page.locator("table tbody tr").first().locator("a").first();
    assert.equal(await first.getAttribute("href"), `/persons/${child}`, `${typed} finds the child first`);
  }
  await look(page, "search-typo");
});

await step("the demo child's record opens on an overview with a timeline", async () => {
  await page.goto(`${base}/persons/${child}`);
  assert.ok(await page.locator("h1").isVisible());
  assert.ok(await page.getByText("Identity not checked").first().isVisible(), "the unchecked adult");
  assert.ok(await page.locator("svg.app-timeline").isVisible(), "the timeline");
  assert.ok((await page.locator(".app-timeline__mark--injury").count()) > 1, "injuries marked");
  await look(page, "child");
  await page.getByRole("link", { name: "the last 3 months of the record" }).click();
  await page.waitForURL(/from=/);
  await look(page, "child-last-3-months");
});

await step("a bad filter date is an error summary on the same page", async () => {
  const response = await page.goto(`${base}/persons/${child}?from=2007-02-30`);
  assert.equal(response.status(), 400);
  assert.match(await page.title(), /^Error: /);
  await page.locator(".govuk-error-summary a").click();
  assert.equal(await page.evaluate(() => document.activeElement.id), "from");
  await look(page, "child-bad-filter");
});

await step("recording: a form with mistakes names each field, then the entry and its concern appear", async () => {
  await page.goto(`${base}/persons/${child}`);
  await page.getByRole("button", { name: "Record an entry" }).click();
  assert.ok(await page.getByRole("heading", { name: "What are you recording?" }).isVisible());
  await look(page, "record-choose");
  await page.getByRole("link", { name: "Claim" }).click();
  assert.ok(await page.getByRole("heading", { name: "Claim" }).isVisible());
  await look(page, "record-claim");
  await page.goBack();
  await page.getByRole("link", { name: "Injury observed" }).click();
  await look(page, "record-form");
  await page.locator("#occurred-year").fill("2007");
  await page.getByRole("button", { name: /^Record/ }).click();
  await page.waitForSelector(".govuk-error-summary");
  assert.match(await page.title(), /^Error: /);
  const errors = await page.locator(".govuk-error-summary__list a").allTextContents();
  assert.ok(errors.length >= 3, `every mistake at once: ${errors}`);
  assert.equal(await page.locator("#occurred-year").inputValue(), "2007", "what was typed is kept");
  await page.locator(".govuk-error-summary__list a").first().click();
  assert.equal(await page.evaluate(() => document.activeElement.id), "occurred");
  await look(page, "record-errors");
  await page.locator("#occurred").fill("30");
  await page.locator("#occurred-month").fill("7");
  await page.locator("#summary").fill("Bruising to the left cheek seen at nursery collection.");
  await page.getByLabel("Body site").fill("left cheek");
  await page.getByLabel("Bruise").check();
  await page.getByLabel("Explanation given (optional)").fill("Mother says he fell against a door");
  await page.getByRole("button", { name: /^Record/ }).click();
  await page.waitForSelector("#recorded");
  assert.ok(await page.getByRole("heading", { name: "Injury observed recorded" }).isVisible());
  await look(page, "recorded");
  await page.getByRole("link", { name: "See it in the chronology" }).click();
  const row = page.locator("tr[id^=entry-]", { hasText: "Bruising to the left cheek" });
  assert.equal(await row.count(), 1, "the entry is in the chronology");
});

await step("keyboard only: sign in, search, open the child and record a case note", async () => {
  const keyboard = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const k = await keyboard.newPage();
  await k.goto(`${base}/sign-in`);
  await tabTo(k, focusedId, "user");
  await k.keyboard.type("practitioner@northbury-childrens-services");
  await tabTo(k, focusedId, "password");
  await k.keyboard.type(password);
  await k.keyboard.press("Enter");
  await k.waitForURL((url) => !url.pathname.startsWith("/sign-in"));
  await tabTo(k, focusedId, "q");
  await k.keyboard.type("Jos Reev");
  await k.keyboard.press("Enter");
  await k.waitForURL(/q=/);
  await tabTo(k, focusedLink, `/persons/${child}`);
  await k.keyboard.press("Enter");
  await k.waitForURL(new RegExp(`/persons/${child}$`));
  await tabTo(k, focusedLink, `/persons/${child}/record`);
  await k.keyboard.press("Enter");
  await k.waitForURL(/\/record$/);
  await tabTo(k, focusedLink, "kind=case_note");
  await k.keyboard.press("Enter");
  await k.waitForURL(/kind=case_note/);
  await tabTo(k, focusedId, "occurred");
  await k.keyboard.type("2");
  await k.keyboard.press("Tab");
  await k.keyboard.type("8");
  await k.keyboard.press("Tab");
  await k.keyboard.type("2007");
  await tabTo(k, focusedId, "summary");
  await k.keyboard.type("Telephone call with the nursery manager, recorded from the keyboard alone.");
  await tabTo(k, focusedButton, "Record");
  await k.keyboard.press("Enter");
  await k.waitForSelector("#recorded");
  assert.ok(await k.getByRole("heading", { name: "Case note recorded" }).isVisible());
  await keyboard.close();
});

await step("the child's record prints on A4 without the service's furniture", async () => {
  await page.goto(`${base}/persons/${child}`);
  await page.emulateMedia({ media: "print" });
  const hidden = await page.evaluate(() =>
    [".govuk-generic-header", ".govuk-service-navigation", ".govuk-footer", ".app-filters"].map(
      (s) => getComputedStyle(document.querySelector(s)).display,
    ),
  );
  assert.deepEqual(hidden, ["none", "none", "none", "none"]);
  await page.pdf({ path: `${artefacts}child.pdf`, preferCSSPageSize: true });
  await page.emulateMedia({ media: "screen" });
});

await step("an unknown page is a page, with the header and a way on", async () => {
  const response = await page.goto(`${base}/no-such-page`);
  assert.equal(response.status(), 404);
  assert.ok(await page.getByRole("heading", { name: "Page not found" }).isVisible());
  assert.ok(await page.getByRole("button", { name: "Sign out" }).isVisible());
  await look(page, "not-found");
});

await step("alerts", async () => {
  await page.goto(`${base}/alerts`);
  await look(page, "alerts");
  await signOut(page);
});

await step("a safeguarding lead's possible matches and break-glass reads", async () => {
  await signIn(page, "safeguarding_lead@northbury-childrens-services");
  await page.getByRole("link", { name: "Possible matches" }).click();
  await look(page, "link-reviews");
  const pairs = await page.locator("section.app-review").count();
  assert.ok(pairs > 0, "the demo leaves pairs for a person to decide");
  const first = page.locator("section.app-review").first();
  await first.getByRole("button", { name: "Save decision" }).click();
  await page.waitForSelector(".govuk-error-summary");
  assert.match(await page.title(), /^Error: /, "a decision needs its verdict");
  await look(page, "link-review-error");
  const again = page.locator("section.app-review").first();
  await again.getByLabel("Different people: keep them apart").check();
  await again.getByLabel("What did you check?").fill("Different dates of birth and schools; the GP confirmed two children.");
  await again.getByRole("button", { name: "Save decision" }).click();
  await page.waitForLoadState();
  assert.equal(await page.locator("section.app-review").count(), pairs - 1, "the pair is decided");
  await page.getByRole("link", { name: "Break-glass reads" }).click();
  await look(page, "break-glass-reads");
  await page.getByRole("link", { name: "Evaluation failures" }).click();
  await look(page, "evaluation-failures");
  await page.goto(`${base}/persons/${child}/access-log`);
  await look(page, "access-log");
  await signOut(page);
});

await step("a safeguarding lead of children's social care opens a practice review, a mistake first", async () => {
  await signIn(page, "safeguarding_lead@northbury-childrens-services");
  await page.goto(`${base}/persons/${child}`);
  await page.getByRole("link", { name: "Practice review" }).click();
  assert.ok(await page.getByRole("heading", { name: "Record a serious incident" }).isVisible());
  await look(page, "practice-review");
  await page.getByRole("button", { name: "Record the serious incident" }).click();
  await page.waitForSelector(".govuk-error-summary");
  assert.match(await page.title(), /^Error: /);
  await page.locator(".govuk-error-summary__list a").first().click();
  assert.equal(await page.evaluate(() => document.activeElement.id), "known");
  await look(page, "practice-review-error");
  const [known, notified] = [page.locator("#known-input"), page.locator("#notified-input")];
  await known.getByLabel("Day").fill("3");
  await known.getByLabel("Month").fill("8");
  await known.getByLabel("Year").fill("2007");
  await notified.getByLabel("Day").fill("6");
  await notified.getByLabel("Month").fill("8");
  await notified.getByLabel("Year").fill("2007");
  await page.getByLabel("What happened to the child?").fill("The child died at home with many injuries.");
  await page.locator('input[name="panel"][value="review_panel@northbury-childrens-services"]').check();
  await page.getByRole("button", { name: "Record the serious incident" }).click();
  await page.waitForSelector(".govuk-notification-banner--success");
  assert.ok(await page.getByRole("heading", { name: "Record the rapid review" }).isVisible());
  assert.ok(await page.getByText("Rapid review held after the notification").isVisible());
  await look(page, "practice-review-open");
  await signOut(page);
});

await step("a team manager lands on their team's caseload", async () => {
  await signIn(page, "team_manager@northbury-childrens-services");
  assert.equal(new URL(page.url()).pathname, "/team");
  assert.ok(await page.getByRole("heading", { name: "Your team" }).isVisible());
  assert.ok(await page.locator("svg.app-chart").first().isVisible(), "the charts");
  await look(page, "team");
});

await step("a team manager acts on a concern: a mistake first, then assigned, and the record shows it", async () => {
  await page.goto(`${base}/persons/${child}`);
  await page.getByRole("link", { name: /^Acknowledge or assign/ }).first().click();
  assert.ok(await page.getByRole("heading", { name: "Act on a concern" }).isVisible());
  await look(page, "concern");
  await page.getByRole("button", { name: "Acknowledge" }).click();
  await page.waitForSelector(".govuk-error-summary");
  assert.match(await page.title(), /^Error: /);
  await page.locator(".govuk-error-summary__list a").first().click();
  assert.equal(await page.evaluate(() => document.activeElement.id), "reason");
  await look(page, "concern-error");
  await page.getByLabel("Who is to act on it").selectOption({ index: 1 });
  await page.getByRole("button", { name: "Assign" }).click();
  await page.waitForSelector("#acted");
  assert.ok(await page.getByRole("heading", { name: /^Concern assigned to / }).isVisible());
  assert.ok(await page.getByText(/^Assigned$/).first().isVisible(), "beside the concern");
  await look(page, "concern-acted");
  await signOut(page);
});

await step("an administrator lands on the users and agencies", async () => {
  await signIn(page, "administrator@northbury-childrens-services");
  assert.equal(new URL(page.url()).pathname, "/admin");
  assert.ok(await page.getByRole("heading", { name: "Users and agencies" }).isVisible());
  await look(page, "admin");
  await page.goto(`${base}/`);
  assert.equal(new URL(page.url()).pathname, "/admin", "the search page sends them home");
  await signOut(page);
});

await step("an auditor lands on the audit chains, verified", async () => {
  await signIn(page, "auditor@northbury-childrens-services");
  assert.equal(new URL(page.url()).pathname, "/audit");
  assert.ok(await page.getByRole("heading", { name: "Both chains verify" }).isVisible());
  await look(page, "audit");
  await signOut(page);
});

await step("a review panel member lands on the children under review", async () => {
  await signIn(page, "review_panel@northbury-childrens-services");
  assert.equal(new URL(page.url()).pathname, "/reviews");
  assert.ok(await page.getByRole("heading", { name: "Children under review" }).isVisible());
  assert.ok(
    await page.getByText("National panel notified; rapid review to follow").isVisible(),
    "the review the safeguarding lead opened, with this member on its panel",
  );
  await look(page, "reviews");
  await signOut(page);
});

await step("a school with no involvement is asked why before reading", async () => {
  await signIn(page, "practitioner@northbury-schools");
  await page.goto(`${base}/persons/${child}`);
  assert.ok(
    await page.getByRole("heading", { name: "Why do you need to read this record?" }).isVisible(),
  );
  await page.getByRole("button", { name: "Read the record" }).click();
  await page.waitForSelector(".govuk-error-summary");
  await look(page, "break-glass-error");
  await signOut(page);
});

await step("a school not yet involved records about a pupil it finds, seeing nothing of the record", async () => {
  await signIn(page, "practitioner@northbury-schools");
  await page.getByLabel("Name, date of birth, NHS number or postcode").fill("Reev");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("link", { name: /^Record an entry/ }).first().click();
  await page.getByRole("link", { name: "Case note" }).click();
  assert.ok(await page.getByText("Your agency does not yet share this child's record").isVisible());
  assert.equal(await page.getByText("lives with the child").count(), 0, "no household");
  await look(page, "record-not-yet-involved");
  await page.getByLabel("Day").first().fill("1");
  await page.getByLabel("Month").first().fill("12");
  await page.getByLabel("Year").first().fill("2026");
  await page.getByLabel("What happened?").fill("Came to school hungry and with a bruised arm.");
  await page.getByRole("button", { name: /^Record/ }).click();
  await page.waitForLoadState();
  assert.ok(
    await page.getByRole("heading", { name: "Your agency's involvement is waiting to be confirmed" }).isVisible(),
    "recording asked to be involved; it did not open the record",
  );
  await look(page, "recorded-awaiting-confirmation");
  await signOut(page);
});

await browser.close();
console.log(`${pagesChecked} pages checked with axe-core; screenshots in ${artefacts}`);
if (failures.length) {
  console.error(`${failures.length} failures:\n  ${failures.join("\n  ")}`);
  process.exit(1);
}
