// CERT-3 in Chromium, end to end through the real stack: a cardholder whose certificates
// end in 15 days signs in, renews them on the card through the bridge's sealed relay,
// signs in again with the new certificate, and OpenSC and openssl see it.
const { execFileSync } = require('child_process');
const { test, expect } = require('@playwright/test');
const stack = require('./stack');
const { expectAccessible, signIn } = require('./pages');

const TOM = 'tom-hughes';
const DAY = 24 * 60 * 60;
let card;
let bridge;
let seeded;

test.beforeEach(async () => {
  seeded = JSON.parse(stack.reseed()).find((u) => u.card_file.endsWith(`${TOM}.json`));
  card = await stack.insertCard(TOM);
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

test('CERT-3: a card 15 days from expiry renews its keys and certificates, and signs in with them', async ({ page, baseURL }) => {
  const now = Date.now() / 1000;
  expect(seeded.certificate_not_after).toBeGreaterThan(now + 14 * DAY);
  expect(seeded.certificate_not_after).toBeLessThan(now + 16 * DAY);
  bridge = await stack.startBridge(baseURL);
  const before = certificateOnCard();

  await signIn(page, '1234', '/login?next=/renew');
  await expect(page.getByRole('heading', { name: 'Renew your certificates' })).toBeVisible({ timeout: 20_000 });
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

  // A standard client sees the new certificate, verifies it and signs with its key.
  const after = certificateOnCard();
  expect(after).not.toEqual(before);
  const checked = await stack.checkIssuedCard(baseURL, '1234');
  expect(checked.verified).toContain('OK');
});
