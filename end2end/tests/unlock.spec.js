// The self-service unlock in Chromium, end to end through the real stack:
// page ↔ card bridge ↔ PC/SC (pcscd + vpcd) ↔ virtual card, and page ↔ server ↔ SMTP.
const { test, expect } = require('@playwright/test');
const stack = require('./stack');
const { expectAccessible, answerQuestions: answerWith, enterEmailedCode, setNewPasscode, signIn: signInAt } = require('./pages');

const JOHN = 'john-rigby';
const JOHN_EMAIL = 'john.rigby@nhs.net';

// Demo answers by question text, as `seed-demo` printed them.
let ANSWERS;
let card;
let bridge;

test.beforeEach(async () => {
  const seeded = JSON.parse(stack.reseed());
  ANSWERS = seeded.find((u) => u.email === JOHN_EMAIL).answers;
  await stack.clearMail();
  card = await stack.insertCard(JOHN);
});

test.afterEach(async () => {
  if (bridge) await bridge.stop();
  bridge = undefined;
  if (card) await card.stop();
  card = undefined;
});

async function startUnlock(page, baseURL) {
  bridge = await stack.startBridge(baseURL);
  await page.goto('/');
  await expect(page.locator('#card-status')).toContainText('Smartcard detected');
  await expectAccessible(page);
  await page.getByRole('button', { name: 'Start' }).click();
  // UNL-2: whose card it is, from the card itself (UNL-1).
  await expect(page.getByText('issued to Mr John Rigby')).toBeVisible();
  await expect(page.getByText('disciplinary action')).toBeVisible();
}

async function answerQuestions(page, options) {
  await answerWith(page, ANSWERS, options);
}

test('UNL-1..7 / CARD-3: a locked card is unlocked in the browser, and nothing secret leaks', async ({ page, baseURL }) => {
  expect(stack.showCard(JOHN).pin_tries_left).toBe(0);
  const before = stack.cardSecrets(JOHN);
  const traffic = stack.recordTraffic(page);
  await startUnlock(page, baseURL);
  await expectAccessible(page);
  await answerQuestions(page);

  // UNL-5: the code comes by email.
  await expect(page.getByLabel('Smartcard Unlock Code')).toBeVisible();
  const mail = await stack.waitForMail(JOHN_EMAIL, 'Smartcard Unlock Code');
  expect(mail.text).toContain('valid for 15 minutes');
  const code = mail.text.match(/\b(\d{6})\b/)[1];
  await page.getByLabel('Smartcard Unlock Code').fill(code);
  await page.getByRole('button', { name: 'Next' }).click();

  // UNL-6 / UNL-7: the new passcode is set on the card, locally.
  await expect(page.getByLabel('New passcode')).toBeVisible();
  await expectAccessible(page);
  await page.getByLabel('New passcode').fill('N3w!pin');
  await page.getByLabel('Confirm passcode').fill('N3w!pin');
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByRole('heading', { name: 'Smartcard Unlocked' })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByText('remove and then reinsert')).toBeVisible();
  await stack.waitForMail(JOHN_EMAIL, 'Your smartcard has been unlocked');

  // The card itself: tries reset, and the new passcode verifies on it through pcscd.
  await bridge.stop();
  const bridgeOutput = bridge.output;
  bridge = undefined;
  await card.stop();
  card = undefined;
  const state = stack.showCard(JOHN);
  expect(state.pin_tries_left).toBe(3);
  expect(state.pin_blocked).toBe(false);
  card = await stack.insertCard(JOHN);
  await stack.verifyPinWithPivTool('N3w!pin');
  // CERT-1: the card seed-demo issued through the server's CA is a normal PIV card.
  const issued = await stack.checkIssuedCard(baseURL, 'N3w!pin');
  expect(issued.listed).toContain('PIV Authentication');
  expect(issued.verified).toContain(': OK');
  expect(issued.signed).toContain('Verified OK');

  // CARD-3 / ALL-7: what the page saw, and what the server and bridge kept.
  const after = stack.cardSecrets(JOHN);
  expect(after.puk[0]).not.toBe(before.puk[0]); // the PUK was rotated
  const seen = await traffic.all();
  const scripts = seen.filter((t) => /\/api\/unlock\/[0-9a-f]+\/script$/.test(new URL(t.url).pathname));
  expect(scripts.length).toBe(1);
  const oneTimePin = JSON.parse(scripts[0].body).one_time_pin;
  expect(oneTimePin).toMatch(/^[0-9A-Za-z]{8}$/);
  const never = [...before.puk, ...after.puk, ...before.keys, 'N3w!pin'];
  for (const t of seen) {
    for (const secret of never) {
      expect(t.body.toLowerCase(), `answer from ${t.url}`).not.toContain(secret.toLowerCase());
    }
    // The one-time PIN comes only with the sealed script, and goes only to the bridge.
    if (t !== scripts[0]) expect(t.body, `answer from ${t.url}`).not.toContain(oneTimePin);
    const toBridge = new URL(t.url).pathname === '/v1/card/change-pin';
    if (!toBridge) {
      expect(t.sent, `request to ${t.url}`).not.toContain(oneTimePin);
      expect(t.sent, `request to ${t.url}`).not.toContain('N3w!pin');
    }
    for (const puk of [...before.puk, ...after.puk]) expect(t.sent.toLowerCase()).not.toContain(puk.toLowerCase());
  }
  const kept = [...stack.runFiles(), { name: 'card-bridge output', text: bridgeOutput }];
  for (const file of kept) {
    for (const secret of [...never, oneTimePin]) {
      expect(file.text.toLowerCase().includes(secret.toLowerCase()), `${secret.length}-character secret in ${file.name}`).toBe(false);
    }
  }
});

test('UNL-4: three wrong answers close self-service and send the user to the RA', async ({ page, baseURL }) => {
  await startUnlock(page, baseURL);
  for (let attempt = 1; attempt <= 3; attempt++) {
    await answerQuestions(page, { wrong: true });
    if (attempt < 3) {
      await expect(page.locator('.reason-code').first()).toContainText('wrong_answers');
    }
  }
  await expect(page.locator('.reason-code').first()).toContainText('self_service_closed');
  await expect(page.getByText('Registration Authority').first()).toBeVisible();
  await expectAccessible(page);

  // Closed means closed: starting again goes straight to the RA message.
  await page.goto('/');
  await expect(page.locator('#card-status')).toContainText('Smartcard detected');
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.locator('.reason-code').first()).toContainText('self_service_closed');
  expect(stack.showCard(JOHN).pin_tries_left).toBe(0);
});

test('UNL-6 / CARD-3: mismatched passcodes are refused before the card is touched; a reload resumes', async ({ page, baseURL }) => {
  await startUnlock(page, baseURL);
  await answerQuestions(page);
  await enterEmailedCode(page, JOHN_EMAIL);
  await page.getByLabel('New passcode').fill('abcd1234');
  await page.getByLabel('Confirm passcode').fill('abcd1235');
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByText('The two passcodes do not match.').first()).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Smartcard Unlocked' })).toHaveCount(0);
  expect(stack.showCard(JOHN).pin_tries_left).toBe(0);

  // CARD-3: a reload goes back to the card update of the same attempt, with no new code.
  await page.reload();
  await expect(page.locator('#card-status')).toContainText('Smartcard detected');
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByLabel('New passcode')).toBeVisible();
  await page.getByLabel('New passcode').fill('abcd1234');
  await page.getByLabel('Confirm passcode').fill('abcd1234');
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByRole('heading', { name: 'Smartcard Unlocked' })).toBeVisible({ timeout: 30_000 });
  const codes = (await stack.allMail()).filter((m) => m.subject === 'Smartcard Unlock Code');
  expect(codes.length).toBe(1);
});

test('BRG: with no card bridge running the page says what to do', async ({ page }) => {
  await page.goto('/');
  await expect(page.locator('#card-status')).toContainText('Card bridge not running');
  await expect(page.locator('#card-status .reason-code')).toContainText('bridge_unreachable');
  await expectAccessible(page);
});

test('UNL-1: Start pressed before the card bridge has said anything still reads the card', async ({ page, baseURL }) => {
  bridge = await stack.startBridge(baseURL);
  // Issue 18: the page is usable once drawn. The bridge's events socket opens and stays
  // silent here, so the page is still looking for the card when Start is pressed.
  await page.routeWebSocket(/\/v1\/events$/, () => {});
  await page.goto('/');
  await expect(page.locator('#card-status')).toContainText('Looking for the card bridge');
  const start = page.getByRole('button', { name: 'Start' });
  await expect(start).toHaveAttribute('aria-disabled', 'false');
  await expectAccessible(page);
  await start.click();
  await expect(page.getByText('issued to Mr John Rigby')).toBeVisible();
});

test('UNL-8: an unregistered user with a locked card is told how to reach the RA', async ({ page, baseURL }) => {
  await card.stop();
  card = await stack.insertCard('jane-doe');
  bridge = await stack.startBridge(baseURL);
  await page.goto('/');
  await expect(page.locator('#card-status')).toContainText('Smartcard detected');
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByRole('heading', { name: 'You are not registered for self-service unlock' })).toBeVisible();
  await expect(page.locator('.reason-code').first()).toContainText('not_registered');
  await expect(page.getByText('Registration Authority').first()).toBeVisible();
  await expectAccessible(page);
  expect(stack.showCard('jane-doe').pin_tries_left).toBe(0);
});

test('AUTH-1 / BRG-6: sign in with the card; the last try is spent only after a warning', async ({ page, baseURL }) => {
  if (card) await card.stop();
  card = await stack.insertCard('ravi-patel');
  bridge = await stack.startBridge(baseURL);
  await page.goto('/login');
  await expect(page.locator('#card-status')).toContainText('You have 3 tries left.');
  await expectAccessible(page);
  for (const left of [2, 1]) {
    await page.getByLabel('Smartcard passcode').fill('9999');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.locator('.reason-code').first()).toContainText('wrong_pin');
    await expect(page.locator('.nhsuk-error-summary')).toContainText(`You have ${left} ${left === 1 ? 'try' : 'tries'} left.`);
  }
  // BRG-6: with one try left the page warns and waits for the user to confirm.
  await expect(page.locator('#card-status')).toContainText('You have 1 try left.');
  await page.getByLabel('Smartcard passcode').fill('1234');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByText('This is your last try')).toBeVisible();
  expect(stack.showCard('ravi-patel').pin_tries_left).toBe(1);
  await expectAccessible(page);
  await page.getByRole('button', { name: 'Use my last try' }).click();
  // AUTH-2: signed in, on "My card".
  await expect(page.getByRole('heading', { name: 'My card' })).toBeVisible({ timeout: 20_000 });
  await expect(page.locator('#my-name')).toContainText('Ravi Patel');
  await expectAccessible(page);
  const cookies = await page.context().cookies();
  // ALL-6: on HTTPS the session cookie is __Host- and Secure.
  const session = cookies.find((c) => c.name === '__Host-scss-session');
  expect(session.httpOnly).toBe(true);
  expect(session.sameSite).toBe('Strict');
  expect(session.secure).toBe(true);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in with your smartcard' })).toBeVisible();
  await page.goto('/my-card');
  await expect(page.getByRole('heading', { name: 'You are not signed in' })).toBeVisible();
});

test('REG-1..5: a signed-in user registers with the emailed code; "this wasn\'t me" closes self-service', async ({ page, baseURL }) => {
  if (card) await card.stop();
  card = await stack.insertCard('ravi-patel');
  bridge = await stack.startBridge(baseURL);
  await page.goto('/login');
  await expect(page.locator('#card-status')).toContainText('You have 3 tries left.');
  await page.getByLabel('Smartcard passcode').fill('1234');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('#my-registration')).toContainText('Not registered', { timeout: 20_000 });
  await expect(page.locator('#my-certificate-expiry')).toContainText(/^\d{4}-\d{2}-\d{2}$/);
  await expectAccessible(page);
  await page.getByRole('link', { name: 'Register for self-service unlock' }).click();

  // REG-1: the passcode again, on the card.
  await page.getByLabel('Smartcard passcode').fill('1234');
  await page.getByRole('button', { name: 'Continue' }).click();
  // REG-2 / REG-3: four different questions, and the email confirmed.
  await expect(page.getByRole('heading', { name: 'Your security questions' })).toBeVisible({ timeout: 20_000 });
  await expectAccessible(page);
  const picks = [1, 5, 7, 20];
  for (let n = 1; n <= 4; n++) {
    await page.locator(`#question-${n}`).selectOption(String(picks[n - 1]));
    await page.locator(`#answer-${n}`).fill(`answer ${n}`);
  }
  await expect(page.getByLabel('Email address for your codes')).toHaveValue('ravi.patel@nhs.net');
  await page.getByRole('button', { name: 'Send me a code' }).click();
  // REG-4: the code from the email.
  await expect(page.getByRole('heading', { name: 'Enter your registration code' })).toBeVisible();
  const mail = await stack.waitForMail('ravi.patel@nhs.net', 'Smartcard Self-Service registration code');
  await page.getByLabel('Registration code').fill(mail.text.match(/\b(\d{6})\b/)[1]);
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByRole('heading', { name: 'You are registered for self-service unlock' })).toBeVisible();
  await page.getByRole('link', { name: 'Back to My card' }).click();
  await expect(page.locator('#my-registration')).toContainText('Registered');
  await expect(page.locator('#my-events')).toContainText('Registered for self-service unlock');

  // The notice carries a single-use "this wasn't me" link; using it closes self-service.
  const notice = await stack.waitForMail('ravi.patel@nhs.net', 'You have registered for Smartcard Self-Service');
  const link = notice.text.match(/(http\S+\/not-me#[0-9a-f]{64})/)[1];
  await page.goto(link);
  await expectAccessible(page);
  await page.getByRole('button', { name: "Report that this wasn't me" }).click();
  await expect(page.getByRole('heading', { name: 'Thank you, we have your report' })).toBeVisible();
  // RA-6: the report is an incident stop — every session of Ravi's has ended.
  await page.goto('/my-card');
  await expect(page.getByRole('heading', { name: 'You are not signed in' })).toBeVisible();
  // Signing in again with the card shows self-service closed until the RA has looked.
  await page.goto('/login');
  await page.getByLabel('Smartcard passcode').fill('1234');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('#my-registration')).toContainText('Closed', { timeout: 20_000 });
});

test('The whole story: sign in, register, lock the card, unlock it with those answers, sign in with the new passcode', async ({ page, baseURL }) => {
  if (card) await card.stop();
  card = await stack.insertCard('ravi-patel');
  bridge = await stack.startBridge(baseURL);
  const signIn = (pin) => signInAt(page, pin);
  await signIn('1234');
  await expect(page.locator('#my-registration')).toContainText('Not registered', { timeout: 20_000 });

  // Register four questions.
  await page.getByRole('link', { name: 'Register for self-service unlock' }).click();
  await page.getByLabel('Smartcard passcode').fill('1234');
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByRole('heading', { name: 'Your security questions' })).toBeVisible({ timeout: 20_000 });
  const chosen = {
    "What is your mother's maiden name?": 'Okafor',
    'What was the name of your first pet?': 'Biscuit',
    'What was the name of your first school?': 'Hillcrest',
    'What was your childhood nickname?': 'Ravs',
  };
  const texts = Object.keys(chosen);
  for (let n = 1; n <= 4; n++) {
    await page.locator(`#question-${n}`).selectOption({ label: texts[n - 1] });
    await page.locator(`#answer-${n}`).fill(chosen[texts[n - 1]]);
  }
  await page.getByRole('button', { name: 'Send me a code' }).click();
  const code = await stack.waitForMail('ravi.patel@nhs.net', 'Smartcard Self-Service registration code');
  await page.getByLabel('Registration code').fill(code.text.match(/\b(\d{6})\b/)[1]);
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByRole('heading', { name: 'You are registered for self-service unlock' })).toBeVisible();
  await page.getByRole('link', { name: 'Back to My card' }).click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  // Signing out goes to the sign-in page by itself: let it land first.
  await expect(page.getByRole('heading', { name: 'Sign in with your smartcard' })).toBeVisible();

  // Three wrong passcodes lock the card; the page warns before the last.
  await signIn('0000');
  await expect(page.locator('.reason-code').first()).toContainText('wrong_pin');
  await page.getByLabel('Smartcard passcode').fill('0000');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('#card-status')).toContainText('You have 1 try left.');
  await page.getByLabel('Smartcard passcode').fill('0000');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByText('This is your last try')).toBeVisible();
  await page.getByRole('button', { name: 'Use my last try' }).click();
  await expect(page.locator('#card-status')).toContainText('Your smartcard passcode is locked.');
  expect(stack.showCard('ravi-patel').pin_tries_left).toBe(0);

  // Unlock with the answers just registered.
  await page.getByRole('link', { name: 'Unlock your smartcard' }).click();
  await expect(page.locator('#card-status')).toContainText('Smartcard detected');
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByText('issued to Mr Ravi Patel')).toBeVisible();
  const inputs = page.locator('input[data-question-id]');
  for (let i = 0; i < await inputs.count(); i++) {
    const input = inputs.nth(i);
    const label = (await page.locator(`label[for="${await input.getAttribute('id')}"]`).innerText()).trim();
    expect(chosen[label], `registered answer for "${label}"`).toBeTruthy();
    await input.fill(chosen[label]);
  }
  await page.getByRole('button', { name: 'Next' }).click();
  await enterEmailedCode(page, 'ravi.patel@nhs.net');
  await setNewPasscode(page, 'R4vi!new');

  // Sign in with the new passcode; "My card" tells the story.
  await signIn('R4vi!new');
  await expect(page.locator('#my-registration')).toContainText('Registered', { timeout: 20_000 });
  await expect(page.locator('#my-tries')).toContainText('You have 3 tries left.');
  for (const event of ['Your card was unlocked', 'Registered for self-service unlock', 'Signed in with your card']) {
    await expect(page.locator('#my-events')).toContainText(event);
  }

  // REG-5: a new mobile number, confirmed with the passcode on the card; the address on
  // record is told.
  await page.locator('#contact-details summary').click();
  await page.getByLabel('Mobile number (optional)').fill('07700 900123');
  await page.getByLabel('Smartcard passcode, to confirm it is you').fill('R4vi!new');
  await page.getByRole('button', { name: 'Save contact details' }).click();
  await expect(page.locator('#my-mobile')).toContainText('+447700900123', { timeout: 20_000 });
  await stack.waitForMail('ravi.patel@nhs.net', 'Your Smartcard Self-Service contact details changed');
  await expectAccessible(page);
});
