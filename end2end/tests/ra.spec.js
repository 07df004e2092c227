// The RA console in Chromium through the real stack: an RA agent signs in with their own
// virtual card, finds a user, acts with a reason, and reads the story in the audit trail;
// the user unlocks on the same machine with their card. axe on every RA page.
const { test, expect } = require('@playwright/test');
const stack = require('./stack');
const { expectAccessible, answerQuestions, setNewPasscode, signIn, unlockFromStart } = require('./pages');

const JOHN = 'john-rigby';
const JOHN_EMAIL = 'john.rigby@nhs.net';
const JOHN_UUID = '555555555501';
const RA = 'ravi-patel';
const NOTICE = 'Your Registration Authority changed your smartcard account';

let seeded;
let card;
let bridge;

test.beforeEach(async ({ baseURL }) => {
  seeded = JSON.parse(stack.reseed());
  await stack.clearMail();
  bridge = await stack.startBridge(baseURL);
});

test.afterEach(async () => {
  if (bridge) await bridge.stop();
  bridge = undefined;
  if (card) await card.stop();
  card = undefined;
});

async function swapCard(name) {
  if (card) await card.stop();
  card = await stack.insertCard(name);
}

/** The RA signs in with their own card and lands on the console. */
async function raSignsIn(page) {
  await swapCard(RA);
  await page.goto('/ra');
  await expect(page.getByRole('link', { name: /Sign in/ }).first()).toBeVisible();
  await signIn(page, '1234', '/login?next=/ra');
  await expect(page.locator('#ra-search')).toBeVisible({ timeout: 20_000 });
  await expectAccessible(page);
}

async function openUser(page, query, name) {
  await page.locator('#ra-search').fill(query);
  await page.locator('#ra-search-button').click();
  await page.getByRole('link', { name }).click();
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
  await expectAccessible(page);
}

test('RA-1..4 / UNL-4: John locks himself out, the RA reopens self-service, John unlocks, the trail tells it all', async ({ page }) => {
  const answers = seeded.find((u) => u.email === JOHN_EMAIL).answers;
  // UNL-4: three wrong answers close self-service.
  await swapCard(JOHN);
  await page.goto('/');
  await expect(page.locator('#card-status')).toContainText('Smartcard detected');
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByText('issued to Mr John Rigby')).toBeVisible();
  for (let attempt = 1; attempt <= 3; attempt++) {
    await answerQuestions(page, answers, { wrong: true });
    if (attempt < 3) await expect(page.locator('.reason-code').first()).toContainText('wrong_answers');
  }
  await expect(page.locator('.reason-code').first()).toContainText('self_service_closed');

  // RA-1 / RA-2: the RA agent signs in with their card and finds John.
  await raSignsIn(page);
  await openUser(page, 'rigby', 'Mr John Rigby');
  await expect(page.locator('main')).toContainText('Closed');
  await expect(page.locator('main')).toContainText(JOHN_UUID);

  // RA-3: reopen, with a reason.
  await page.locator('#reopen-reason').fill('Caller verified against HR record, locked out after a holiday');
  await page.locator('#reopen-button').click();
  await expect(page.locator('#ra-done')).toBeVisible();
  await expectAccessible(page);
  await stack.waitForMail(JOHN_EMAIL, NOTICE);

  // John unlocks his own card again.
  await swapCard(JOHN);
  await unlockFromStart(page, { holder: 'Mr John Rigby', email: JOHN_EMAIL, answers, pin: 'Back2wrk' });

  // RA-5: John's card in the reader ended the RA's console session; the RA signs in
  // again to read the whole story in the audit trail (RA-4).
  await swapCard(RA);
  await page.goto('/ra');
  await expect(page.locator('#sign-in-link')).toBeVisible();
  await signIn(page, '1234', `/login?next=${encodeURIComponent(`/ra/audit?user=${JOHN_UUID}`)}`);
  await expect(page.locator('#chain-state')).toContainText('verified');
  const results = page.locator('#audit-results');
  for (const seen of ['unlock.answers', 'self_service_closed', 'ra.reopen', 'Caller verified against HR record', 'unlock.complete', 'unlocked']) {
    await expect(results).toContainText(seen);
  }
  await expect(results).toContainText('ra:555555555503');
  await expectAccessible(page);
  // Filters narrow it.
  await page.locator('#audit-action').fill('ra.reopen');
  await page.locator('#audit-search-button').click();
  await expect(results).not.toContainText('unlock.complete');
  await expect(results).toContainText('ra.reopen');
  // The CSV export, as the link downloads it.
  const href = await page.locator('#audit-csv').getAttribute('href');
  const csv = await page.request.get(href);
  expect(csv.headers()['content-type']).toContain('text/csv');
  const text = await csv.text();
  expect(text.split('\r\n')[0]).toContain('seq,time_utc');
  expect(text).toContain('"ra.reopen"');
  expect(text).not.toContain('"unlock.complete"');

  // The other RA pages are accessible too.
  await page.goto('/ra/reports');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await expectAccessible(page);
  await page.goto('/ra');
  await expect(page.locator('#ra-search')).toBeVisible();
  await expect(page.locator('main')).toContainText('Jane Doe'); // no verified email yet
  await expectAccessible(page);
});

test('RA-3 / UNL-8: the RA reads a phone code to an unregistered user, who unlocks with it once', async ({ page }) => {
  await raSignsIn(page);
  await openUser(page, 'doe', 'Ms Jane Doe');
  await page.locator('#phone-code-reason').fill('Jane called from ward 7, identity checked with her manager');
  await page.locator('#phone-code-button').click();
  await expect(page.locator('#phone-code')).toHaveText(/^\s*\d{6}\s*$/);
  const code = (await page.locator('#phone-code').innerText()).trim();
  await expectAccessible(page);
  const notice = await stack.waitForMail('jane.doe@nhs.net', NOTICE);
  expect(notice.text).not.toContain(code);

  // Jane, with her own locked card: not registered, but the RA's code works.
  await swapCard('jane-doe');
  await page.goto('/');
  await expect(page.locator('#card-status')).toContainText('Smartcard detected');
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.locator('.reason-code').first()).toContainText('not_registered');
  await expectAccessible(page);
  await page.locator('#ra-code').fill('000000' === code ? '111111' : '000000');
  await page.locator('#ra-code-button').click();
  await expect(page.locator('.reason-code').first()).toContainText('code_invalid');
  await page.locator('#ra-code').fill(code);
  await page.locator('#ra-code-button').click();
  await setNewPasscode(page, 'Jane2026');
  await card.stop();
  card = undefined;
  expect(stack.showCard('jane-doe').pin_tries_left).toBe(3);
});

test('RA-5: taking the RA card out of the reader ends the console session', async ({ page }) => {
  await raSignsIn(page);
  await openUser(page, 'rigby', 'Mr John Rigby');
  await card.stop();
  card = undefined;
  await expect(page.locator('#ra-card-gone')).toBeVisible({ timeout: 20_000 });
  await expectAccessible(page);
  // The cookie left behind is no session: with the card back, the console asks to sign in.
  await swapCard(RA);
  await page.goto('/ra');
  await expect(page.locator('#sign-in-link')).toBeVisible();
});

test('RA-5: five minutes after signing in, giving access needs the RA passcode again on their own card', async ({ page }) => {
  await raSignsIn(page);
  await openUser(page, 'doe', 'Ms Jane Doe');
  stack.ageCardProofs(301);
  await page.locator('#phone-code-reason').fill('Jane called from ward 7, identity checked with her manager');
  await page.locator('#phone-code-button').click();
  await expect(page.locator('.reason-code').first()).toContainText('card_proof_required');
  await expect(page.locator('#card-again')).toBeVisible();
  await expectAccessible(page);
  await page.locator('#card-again-passcode').fill('1234');
  await page.locator('#card-again-button').click();
  await expect(page.locator('#ra-done')).toContainText('You confirmed it is you');
  await page.locator('#phone-code-button').click();
  await expect(page.locator('#phone-code')).toHaveText(/^\s*\d{6}\s*$/);
});

test('RA-3 / CERT-4: the RA renews ended certificates at the desk, swapping cards, and the console stays open', async ({ page }) => {
  await raSignsIn(page);
  await openUser(page, 'evans', 'Dr Lucy Evans');
  await expect(page.locator('#ra-cards')).toContainText('the RA renews at the desk');
  await page.getByLabel('How you checked who they are').fill('Photo ID seen at the desk');
  await page.getByRole('button', { name: 'Renew at the desk' }).click();
  const said = page.locator('#desk-renewal-said');
  await expect(said).toContainText("put Dr Lucy Evans's card in", { timeout: 20_000 });
  await expectAccessible(page);
  // The RA's card out, the cardholder's in: the console stays open for it.
  await swapCard('lucy-evans');
  await expect(said).toContainText('certificates are renewed, valid until', { timeout: 30_000 });
  await expect(said).toContainText(String(new Date().getUTCFullYear() + 3));
  await expect(page.locator('#ra-card-gone')).toHaveCount(0);
  await swapCard(RA);
  await expect(said).toHaveCount(0, { timeout: 10_000 });
  await expect(page.getByRole('heading', { level: 1, name: 'Dr Lucy Evans' })).toBeVisible();
  // Lucy signs in with her renewed certificate.
  await swapCard('lucy-evans');
  await expect(page.locator('#ra-card-gone')).toBeVisible({ timeout: 20_000 });
  await signIn(page, '1234');
  await expect(page.getByRole('heading', { name: 'My card' })).toBeVisible({ timeout: 20_000 });
  await expect(page.locator('#my-renewals')).toContainText('0 of 2 self-service renewals used');
});

test('CERT-5: the RA revokes a lost card\'s certificates; the card signs in nowhere and the CRL lists it', async ({ page }) => {
  // The CA's list as a relying party fetches it: its type and size.
  const crl = () => page.evaluate(async () => {
    const response = await fetch('/api/crl');
    return { type: response.headers.get('content-type'), bytes: (await response.arrayBuffer()).byteLength };
  });
  await raSignsIn(page);
  const before = await crl();
  expect(before.type).toBe('application/pkix-crl');
  await openUser(page, 'khan', 'Ms Amira Khan');
  await page.getByLabel('How the loss was reported').fill('Reported lost by phone, caller checked');
  await page.getByRole('button', { name: 'Revoke certificates' }).click();
  await expect(page.locator('#ra-done')).toContainText('Certificates revoked for Ms Amira Khan', { timeout: 20_000 });
  await expectAccessible(page);
  const told = await stack.waitForMail('amira.khan@nhs.net', NOTICE);
  expect(told.text).toContain('revoked the certificates');
  // The CA's list grew by her two certificates; her card no longer signs in.
  expect((await crl()).bytes).toBeGreaterThan(before.bytes);
  await swapCard('amira-khan');
  await expect(page.locator('#ra-card-gone')).toBeVisible({ timeout: 20_000 });
  await signIn(page, '1234');
  await expect(page.locator('.nhsuk-error-summary')).toContainText('certificate is not valid any more', { timeout: 20_000 });
});
