// CERT-2 / CERT-3 in Chromium, end to end through the real stack: a cardholder whose
// certificates end in 15 days signs in and is sent to renewal before anything else, renews
// them on the card through the bridge's sealed relay, signs in again with the new
// certificate, and OpenSC and openssl see it; one 25 days out is offered it, and may
// decline.
const { execFileSync } = require('child_process');
const { test, expect } = require('@playwright/test');
const stack = require('./stack');
const { expectAccessible, signIn } = require('./pages');

const TOM = 'tom-hughes';
const AMIRA = 'amira-khan';
const DAY = 24 * 60 * 60;
let card;
let bridge;
let seeded;

let users;

test.beforeEach(async () => {
  users = JSON.parse(stack.reseed());
  seeded = users.find((u) => u.card_file.endsWith(`${TOM}.json`));
});

test.afterEach(async () => {
  if (bridge) await bridge.stop();
  bridge = undefined;
  if (card) await card.stop();
  card = undefined;
});

/** The login certificate on the card in the reader, as OpenSC reads it. */
function certificateOnCard() {
  return execFileSync('pkcs15-tool', ['--reader', '0', '--read-certificate', '01'], { encoding: 'utf8' });
}

test('CERT-2 CERT-3: a card 15 days from expiry is sent to renewal at sign-in, renews its keys and certificates, and signs in with them', async ({ page, baseURL }) => {
  card = await stack.insertCard(TOM);
  const now = Date.now() / 1000;
  expect(seeded.certificate_not_after).toBeGreaterThan(now + 14 * DAY);
  expect(seeded.certificate_not_after).toBeLessThan(now + 16 * DAY);
  bridge = await stack.startBridge(baseURL);
  const before = certificateOnCard();

  // CERT-2: within 20 days, sign-in leads to renewal before anything else.
  await signIn(page, '1234');
  await expect(page.getByRole('heading', { name: 'Renew your certificates' })).toBeVisible({ timeout: 20_000 });
  await expect(page).toHaveURL(/\/renew$/);
  await expect(page.locator('#renewal-due')).toContainText('renew them before anything else');
  await expect(page.locator('#card-status')).toContainText('Smartcard detected');
  await expectAccessible(page);
  await page.getByLabel('Smartcard passcode').fill('1234');
  await page.getByRole('button', { name: 'Renew my certificates' }).click();
  await expect(page.getByRole('heading', { name: 'Your certificates have been renewed' })).toBeVisible({ timeout: 30_000 });
  await expect(page.locator('#renewed-until')).toContainText(String(new Date().getUTCFullYear() + 3));
  await expectAccessible(page);

  // CERT-3: the old session is over; sign in again, with the new certificate.
  await page.goto('/my-card');
  await expect(page.getByRole('heading', { name: 'You are not signed in' })).toBeVisible();
  await signIn(page, '1234');
  await expect(page.getByRole('heading', { name: 'My card' })).toBeVisible({ timeout: 20_000 });
  await expect(page.locator('#my-certificate-expiry')).toContainText(String(new Date().getUTCFullYear() + 3));
  await expect(page.locator('#my-renewals')).toContainText('1 of 2 self-service renewals used');
  await expect(page.locator('#renewal-notice')).toHaveCount(0);

  // A standard client sees the new certificate, verifies it and signs with its key.
  const after = certificateOnCard();
  expect(after).not.toEqual(before);
  const checked = await stack.checkIssuedCard(baseURL, '1234');
  expect(checked.verified).toContain('OK');
});

test('CERT-3: a renewal cut off after the card made its keys is finished at the next sign-in', async ({ page, context, baseURL }) => {
  card = await stack.insertCard(TOM);
  bridge = await stack.startBridge(baseURL);
  await signIn(page, '1234');
  await expect(page.getByRole('heading', { name: 'Renew your certificates' })).toBeVisible({ timeout: 20_000 });

  // The connection drops just as the page reports the card's new keys: the card has
  // made them, the server never heard which.
  let cut;
  const reported = new Promise((resolve) => { cut = resolve; });
  await page.route('**/api/renewal/*/certificates', async (route) => { cut(); await route.abort('connectionreset'); });
  await page.getByLabel('Smartcard passcode').fill('1234');
  await page.getByRole('button', { name: 'Renew my certificates' }).click();
  await reported;
  await expect(page.locator('.nhsuk-error-summary')).toBeVisible({ timeout: 20_000 });
  await page.unroute('**/api/renewal/*/certificates');

  // Later, the session gone: sign-in finishes the renewal with the card, then asks again.
  await context.clearCookies();
  await signIn(page, '1234');
  await expect(page.locator('#renewal-finished')).toBeVisible({ timeout: 30_000 });
  await expectAccessible(page);
  await page.getByLabel('Smartcard passcode').fill('1234');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'My card' })).toBeVisible({ timeout: 20_000 });
  await expect(page.locator('#my-certificate-expiry')).toContainText(String(new Date().getUTCFullYear() + 3));
  const checked = await stack.checkIssuedCard(baseURL, '1234');
  expect(checked.verified).toContain('OK');
});

test('CERT-2: a card 25 days from expiry is offered renewal on My card, and may decline it', async ({ page, baseURL }) => {
  const amira = users.find((u) => u.card_file.endsWith(`${AMIRA}.json`));
  expect(amira.certificate_not_after).toBeGreaterThan(Date.now() / 1000 + 24 * DAY);
  card = await stack.insertCard(AMIRA);
  bridge = await stack.startBridge(baseURL);
  await signIn(page, '1234');
  await expect(page.getByRole('heading', { name: 'My card' })).toBeVisible({ timeout: 20_000 });
  const notice = page.locator('#renewal-notice');
  await expect(notice).toContainText('Your certificates end soon');
  await expect(notice).toContainText('you will be asked to renew before anything else');
  await expect(notice.getByRole('link', { name: 'Renew now' })).toHaveAttribute('href', '/renew');
  await expectAccessible(page);
  await notice.getByRole('button', { name: 'Not now' }).click();
  await expect(notice).toHaveCount(0);
  await expect(page.locator('#my-renewals')).toContainText('0 of 2 self-service renewals used');
});

test('CERT-2 JOB-2: the day\'s reminder reaches a card 25 days from expiry once, and its link leads to renewal', async ({ page, baseURL }) => {
  const amira = users.find((u) => u.card_file.endsWith(`${AMIRA}.json`));
  const subject = "Your smartcard's certificates end soon: please renew them";
  // The server's jobs run every 5 s here: let the reminders of this test's first seeding
  // go out, then enrol everyone afresh, which makes today's reminder due again.
  await stack.sleep(7_000);
  await stack.clearMail();
  users = JSON.parse(stack.reseed());
  const mail = await stack.waitForMail(amira.email, subject, 30_000);
  const ends = new Date(amira.certificate_not_after * 1000).toISOString().slice(0, 10);
  expect(mail.text).toContain(`end on ${ends}`);
  const link = mail.text.match(/https?:\/\/\S+\/renew\b/)[0];
  expect(new URL(link).origin).toBe(new URL(baseURL).origin);
  // JOB-1: later runs the same day send nothing more.
  await stack.sleep(11_000);
  const reminders = (await stack.allMail()).filter((m) => m.subject === subject && m.to.some((t) => t.address === amira.email));
  expect(reminders).toHaveLength(1);

  card = await stack.insertCard(AMIRA);
  bridge = await stack.startBridge(baseURL);
  await page.goto(link);
  await expect(page.getByRole('heading', { name: 'Renew your certificates' })).toBeVisible();
  await page.locator('#sign-in-link').click();
  await expect(page).toHaveURL(/\/login\?next=\/renew$/);
  await signIn(page, '1234', '/login?next=/renew');
  await expect(page.getByRole('heading', { name: 'Renew your certificates' })).toBeVisible({ timeout: 20_000 });
  await expect(page.getByRole('button', { name: 'Renew my certificates' })).toBeVisible();
});
