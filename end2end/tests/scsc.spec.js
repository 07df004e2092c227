// The one-time-passcode unlocks in Chromium, end to end through the real stack: the
// Smartcard Service Centre's route (seed 000, SCSC-1…SCSC-4) with the code read from the
// GOV.UK Notify stand-in's texts (SMS-2), and the NHS's 2023 route (POL-3) by email on a
// second server run under `nhs-2023`.
const { test, expect } = require('@playwright/test');
const stack = require('./stack');
const { expectAccessible, setNewPasscode } = require('./pages');

const JOHN = 'john-rigby';
const JOHN_MOBILE = '+447700900123';
const JOHN_EMAIL = 'john.rigby@nhs.net';

let card;
let bridge;

test.beforeEach(async () => {
  stack.reseed();
  await stack.clearMail();
  card = await stack.insertCard(JOHN);
});

test.afterEach(async () => {
  if (bridge) await bridge.stop();
  bridge = undefined;
  if (card) await card.stop();
  card = undefined;
});

/** SCSC-1: from the questions' start page to the Account Recovery details. */
async function startScsc(page, baseURL) {
  bridge = await stack.startBridge(baseURL);
  await page.goto('/');
  await expect(page.locator('#card-status')).toContainText('Smartcard detected');
  await page.getByRole('link', { name: 'Unlock with your Account Recovery Passcode instead' }).click();
  await expect(page.getByRole('heading', { name: /Smartcard Service Centre/ })).toBeVisible();
  await expectAccessible(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByText('issued to Mr John Rigby')).toBeVisible();
  await expectAccessible(page);
}

async function enterDetails(page, { uuid = '555555555501', name = 'Rigby', passcode = 'Recovery pass 1' } = {}) {
  await page.getByLabel("User's Unique Identifier (UUID)").fill(uuid);
  await page.getByLabel('Family Name').fill(name);
  await page.getByLabel('Account Recovery Passcode').fill(passcode);
  await page.getByRole('button', { name: 'OK' }).click();
}

test('SCSC-1..3 / SMS-1: John unlocks his card with a One Time Passcode sent by text through Notify', async ({ page, baseURL }) => {
  const before = (await stack.texts(JOHN_MOBILE)).length;
  await startScsc(page, baseURL);
  await enterDetails(page);

  // SCSC-2: Email or SMS, Email recommended and chosen first.
  await expect(page.getByText('We recommend you choose Email')).toBeVisible();
  await expect(page.getByLabel('Email')).toBeChecked();
  await expectAccessible(page);
  await page.getByLabel('SMS (text message)').check();
  await page.getByRole('button', { name: 'OK' }).click();

  await expect(page.getByLabel('One Time Passcode')).toBeVisible();
  await expect(page.getByText('within ten minutes')).toBeVisible();
  const text = await stack.waitForText(JOHN_MOBILE, before);
  expect(text.body).toContain('One Time Passcode');
  expect(text.body).toContain('10 minutes');
  expect(text.body).toContain('/not-me#');
  const code = text.personalisation.code;
  expect(code).toMatch(/^[A-Z0-9]{12}$/);
  await expectAccessible(page);
  await page.getByLabel('One Time Passcode').fill(code.toLowerCase());
  await page.getByRole('button', { name: 'Next' }).click();

  await setNewPasscode(page, 'Scsc5678');
  await bridge.stop();
  bridge = undefined;
  await card.stop();
  card = undefined;
  expect(stack.showCard(JOHN).pin_tries_left).toBe(3);
  card = await stack.insertCard(JOHN);
  await stack.verifyPinWithPivTool('Scsc5678');
});

test('SCSC-4: a wrong UUID, name or passcode gets one answer, with the tries left', async ({ page, baseURL }) => {
  await startScsc(page, baseURL);
  const answers = [];
  const cases = [{ uuid: '555555555502' }, { name: 'Rigbey' }, { passcode: 'Recovery pass 9' }];
  for (const [n, wrong] of cases.entries()) {
    await enterDetails(page, wrong);
    const summary = page.locator('.nhsuk-error-summary');
    await expect(summary).toContainText(`You have ${4 - n} tries left`);
    await expect(summary).toContainText('do not match our records');
    // The same words every time; only the tries and the request's id change.
    const text = await summary.innerText();
    answers.push(text.replace(/You have \d+ tries? left/, '').replace(/\(request [^)]*\)/, ''));
  }
  expect(new Set(answers).size).toBe(1);
  await expect(page.locator('#recovery-tries')).toHaveText('You have 2 tries left.');
  await expect(page.locator('.nhsuk-error-summary')).toContainText('You have 2 tries left');
  await expectAccessible(page);
});

test('POL-3: under nhs-2023 the card alone leads to an emailed code, and the new passcode is 6-8 digits', async ({ page }) => {
  const nhs = stack.env('E2E_NHS2023_URL');
  bridge = await stack.startBridge(nhs);
  await page.goto(`${nhs}/`);
  await expect(page.locator('#card-status')).toContainText('Smartcard detected');
  await expect(page.getByText('Enter the code within 15 minutes of starting')).toBeVisible();
  await expect(page.getByRole('link', { name: /Account Recovery Passcode/ })).toHaveCount(0);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByText('issued to Mr John Rigby')).toBeVisible();
  await expect(page.getByLabel('Email')).toBeChecked();
  await expectAccessible(page);
  await page.getByRole('button', { name: 'OK' }).click();
  await expect(page.getByLabel('Unlock Code')).toBeVisible();
  const mail = await stack.waitForMail(JOHN_EMAIL, 'Your Smartcard One Time Passcode');
  await page.getByLabel('Unlock Code').fill(mail.text.match(/\b(\d{6})\b/)[1]);
  await page.getByRole('button', { name: 'Next' }).click();
  // POL-2: four keyboard characters are not enough here.
  await page.getByLabel('New passcode').fill('Ab1!');
  await page.getByLabel('Confirm passcode').fill('Ab1!');
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.locator('.nhsuk-error-summary')).toContainText('6, 7 or 8 digits');
  await setNewPasscode(page, '24681357');
  await bridge.stop();
  bridge = undefined;
  await card.stop();
  card = undefined;
  card = await stack.insertCard(JOHN);
  await stack.verifyPinWithPivTool('24681357');
});
