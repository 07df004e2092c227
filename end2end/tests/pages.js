// What the browser tests do on the pages, shared by the spec files: axe, the questions,
// the new passcode, sign-in.
const { expect } = require('@playwright/test');
const AxeBuilder = require('@axe-core/playwright').default;
const stack = require('./stack');

/** ALL-3: WCAG 2.2 AA as axe checks it: no violations on the page as it is now. */
async function expectAccessible(page) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
}

/** UNL-3: answers the questions asked, from `answers` (question text → answer). */
async function answerQuestions(page, answers, { wrong = false } = {}) {
  const inputs = page.locator('input[data-question-id]');
  const count = await inputs.count();
  expect(count).toBeGreaterThanOrEqual(2); // UNL-3: 2–4 questions
  expect(count).toBeLessThanOrEqual(4);
  for (let i = 0; i < count; i++) {
    const input = inputs.nth(i);
    const label = (await page.locator(`label[for="${await input.getAttribute('id')}"]`).innerText()).trim();
    const answer = answers[label];
    expect(answer, `demo answer for "${label}"`).toBeTruthy();
    await input.fill(wrong ? 'not the answer' : `  ${answer.toUpperCase()} `);
  }
  await page.getByRole('button', { name: 'Next' }).click();
}

/** UNL-6 / UNL-7: the new passcode, twice; the card is updated through the bridge. */
async function setNewPasscode(page, pin) {
  await expect(page.getByLabel('New passcode')).toBeVisible();
  await page.getByLabel('New passcode').fill(pin);
  await page.getByLabel('Confirm passcode').fill(pin);
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByRole('heading', { name: 'Smartcard Unlocked' })).toBeVisible({ timeout: 30_000 });
}

/** UNL-5: the code from the email to `to`, typed in. */
async function enterEmailedCode(page, to) {
  const mail = await stack.waitForMail(to, 'Smartcard Unlock Code');
  await page.getByLabel('Smartcard Unlock Code').fill(mail.text.match(/\b(\d{6})\b/)[1]);
  await page.getByRole('button', { name: 'Next' }).click();
}

/**
 * UNL-1…7: the whole unlock from the start page, with the card in the reader: Start,
 * whose card it is, the answers, the emailed code and the new passcode `pin`.
 */
async function unlockFromStart(page, { holder, email, answers, pin }) {
  await page.goto('/');
  await expect(page.locator('#card-status')).toContainText('Smartcard detected');
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByText(`issued to ${holder}`)).toBeVisible();
  await answerQuestions(page, answers);
  await enterEmailedCode(page, email);
  await setNewPasscode(page, pin);
}

/** AUTH-1: the passcode on the sign-in page at `path`. */
async function signIn(page, pin, path = '/login') {
  await page.goto(path);
  await expect(page.locator('#card-status')).toContainText('Smartcard detected');
  await page.getByLabel('Smartcard passcode').fill(pin);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

module.exports = { expectAccessible, answerQuestions, enterEmailedCode, setNewPasscode, signIn, unlockFromStart };
