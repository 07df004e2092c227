// PASS-1 / PASS-2 / PASS-3 in Chromium, end to end through the real stack: a cardholder
// sets all three passcodes in one Update (the card's own through the bridge, checked
// afterwards with yubico-piv-tool), is told by email, and is refused a passcode of the
// last five — by the server for a Verification Passcode, by the card for its own, in
// which case nothing of that Update is set.
const { test, expect } = require('@playwright/test');
const stack = require('./stack');
const { expectAccessible, signIn } = require('./pages');

const AMIRA = 'amira-khan';
let card;
let bridge;
let users;

test.beforeEach(async () => {
  users = JSON.parse(stack.reseed());
});

test.afterEach(async () => {
  if (bridge) await bridge.stop();
  bridge = undefined;
  if (card) await card.stop();
  card = undefined;
});

async function fill(page, values) {
  for (const [id, value] of Object.entries(values)) {
    await page.locator(`#${id}`).fill(value);
  }
}

test('PASS-1 PASS-2 PASS-3: all three passcodes in one Update, then a reused one refused by its field', async ({ page, baseURL }) => {
  const amira = users.find((u) => u.card_file.endsWith(`${AMIRA}.json`));
  await stack.clearMail();
  card = await stack.insertCard(AMIRA);
  bridge = await stack.startBridge(baseURL);
  await signIn(page, '1234');
  await expect(page.getByRole('heading', { name: 'My card' })).toBeVisible({ timeout: 20_000 });
  await page.getByRole('link', { name: 'Manage Passcodes' }).click();
  await expect(page.getByRole('heading', { name: 'Manage Passcodes' })).toBeVisible();
  await expect(page.locator('#status-recovery')).toHaveText('Not set');
  await expect(page.locator('#card-status')).toContainText('Smartcard detected');
  await expectAccessible(page);

  await fill(page, {
    'new-recovery': 'Recovery pass 1', 'confirm-recovery': 'Recovery pass 1',
    'new-verification': 'Verify pass 1', 'confirm-verification': 'Verify pass 1',
    'new-card-passcode': '5678', 'confirm-card-passcode': '5678',
    'current-passcode': '1234',
  });
  await page.getByRole('button', { name: 'Update' }).click();
  await expect(page.locator('#passcodes-updated')).toContainText('updated successfully', { timeout: 20_000 });
  await expect(page.locator('#status-recovery')).toHaveText('Set');
  await expect(page.locator('#status-verification')).toHaveText('Set');
  await expectAccessible(page);
  const mail = await stack.waitForMail(amira.email, 'Your smartcard passcodes have been changed');
  expect(mail.text).toContain('Account Recovery Passcode, Verification Passcode, Smartcard Passcode');
  expect(mail.text).not.toContain('pass 1');

  // The card's new passcode is the card's, as any PIV client sees it.
  await bridge.stop();
  bridge = undefined;
  await stack.verifyPinWithPivTool('5678');
  bridge = await stack.startBridge(baseURL);
  await page.reload();
  await expect(page.locator('#card-status')).toContainText('Smartcard detected', { timeout: 20_000 });

  // PASS-3, the server's: the Verification Passcode just used is refused by its field.
  await fill(page, { 'new-verification': 'Verify pass 1', 'confirm-verification': 'Verify pass 1', 'current-passcode': '5678' });
  await page.getByRole('button', { name: 'Update' }).click();
  await expect(page.locator('#new-verification-error')).toContainText('last five', { timeout: 20_000 });

  // CARD-5, the card's: its last passcode is refused, and the other change in the same
  // Update is not made either.
  await page.locator('#blank-recovery').check();
  await fill(page, { 'new-verification': '', 'confirm-verification': '', 'new-card-passcode': '1234', 'confirm-card-passcode': '1234', 'current-passcode': '5678' });
  await page.getByRole('button', { name: 'Update' }).click();
  await expect(page.locator('#new-card-passcode-error')).toContainText('last five', { timeout: 20_000 });
  await page.reload();
  await expect(page.locator('#status-recovery')).toHaveText('Set', { timeout: 20_000 });
});

test('PASS-4: reminded 10 days before, sent to Manage Passcodes once expired, locked 21 days on; My card shows the dates', async ({ page, baseURL }) => {
  bridge = await stack.startBridge(baseURL);
  // 10 days from expiry: a reminder on My card, and the timeline says what is coming.
  card = await stack.insertCard('priya-shah');
  await signIn(page, '1234');
  await expect(page.getByRole('heading', { name: 'My card' })).toBeVisible({ timeout: 20_000 });
  await expect(page.locator('#passcodes-notice')).toContainText('Your passcodes expire soon');
  const timeline = page.locator('#my-timeline');
  await expect(timeline).toContainText('Passcodes expire: sign-in asks you to change them first');
  await expect(timeline).toContainText('your account locks until your RA unlocks it');
  await expect(timeline).toContainText('Certificates end');
  await expectAccessible(page);
  await page.locator('#passcodes-notice-later').click();
  await expect(page.locator('#passcodes-notice')).toHaveCount(0);
  await card.stop();

  // Expired 5 days ago: sign-in leads to Manage Passcodes before anything else.
  await page.context().clearCookies();
  card = await stack.insertCard('sam-wood');
  await signIn(page, '1234');
  await expect(page.getByRole('heading', { name: 'Manage Passcodes' })).toBeVisible({ timeout: 20_000 });
  await expect(page.locator('#passcodes-notice')).toContainText('Change your passcodes now');
  await card.stop();

  // Expired 25 days ago: locked; only the RA unlocks it.
  await page.context().clearCookies();
  card = await stack.insertCard('helen-price');
  await signIn(page, '1234');
  await expect(page.locator('.nhsuk-error-summary')).toContainText('Contact your Registration Authority to unlock it', { timeout: 20_000 });
});

test('PASS-5: a helpdesk agent checks a caller and learns yes or no only', async ({ page, baseURL }) => {
  bridge = await stack.startBridge(baseURL);
  card = await stack.insertCard('hana-ito');
  await signIn(page, '1234', '/login?next=/ra/helpdesk');
  await expect(page.getByRole('heading', { name: "Check a caller's Verification Passcode" })).toBeVisible({ timeout: 20_000 });
  await expectAccessible(page);
  const check = async (uuid, said) => {
    await page.locator('#caller-uuid').fill(uuid);
    await page.locator('#caller-passcode').fill(said);
    await page.getByRole('button', { name: 'Check' }).click();
  };
  await check('555555555508', 'Verify pass 1');
  await expect(page.locator('#helpdesk-answer')).toContainText('Yes', { timeout: 20_000 });
  await expect(page.locator('#caller-passcode')).toHaveValue('');
  await check('555555555508', 'Verify pass 2');
  await expect(page.locator('#helpdesk-answer')).toContainText('does not match', { timeout: 20_000 });
  // An unknown caller is the same no.
  await check('999999999999', 'Verify pass 1');
  await expect(page.locator('#helpdesk-answer')).toContainText('does not match', { timeout: 20_000 });
  await expectAccessible(page);
});
