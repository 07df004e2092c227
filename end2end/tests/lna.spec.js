// BRG-7 / ALL-3: Local Network Access in Chromium, with the page's origin treated as a
// public website (`--ip-address-space-overrides`), as it is for every real deployment:
// the page must reach the card bridge on 127.0.0.1 only with the user's (or the IT
// department's) leave, and must say so when it does not have it.
const fs = require('node:fs');
const path = require('node:path');
const { test, expect, chromium } = require('@playwright/test');
const stack = require('./stack');
const config = require('../playwright.config');
const { expectAccessible, unlockFromStart } = require('./pages');

const JOHN = 'john-rigby';
const JOHN_EMAIL = 'john.rigby@nhs.net';
// Debian's Chromium reads its managed policies here (Google Chrome: /etc/opt/chrome/…).
const MANAGED_POLICIES = '/etc/chromium/policies/managed';
const POLICY_FILE = path.join(MANAGED_POLICIES, 'smartcard-self-service.json');
const EXAMPLE_ORIGIN = 'https://selfservice.example.nhs.uk';

let card;
let bridge;
let browser;

test.afterEach(async () => {
  if (browser) await browser.close();
  browser = undefined;
  fs.rmSync(POLICY_FILE, { force: true });
  if (bridge) await bridge.stop();
  bridge = undefined;
  if (card) await card.stop();
  card = undefined;
});

/**
 * Chromium that treats the page's own address and port as the public internet. With
 * `host`, the page is reached by that name as well, as a real service is.
 */
async function publicPage(baseURL, { host, ...contextOptions } = {}) {
  const { port } = new URL(baseURL);
  const { launchOptions } = config.use;
  const args = [...launchOptions.args, `--ip-address-space-overrides=127.0.0.1:${port}=public`];
  if (host) args.push(`--host-resolver-rules=MAP ${host} 127.0.0.1`);
  browser = await chromium.launch({ ...launchOptions, args });
  const context = await browser.newContext({ baseURL, ...contextOptions });
  return { context, page: await context.newPage() };
}

/** What a user's "Block" leaves behind: the permission denied for this origin. */
async function denyLocalNetwork(context, page, origin) {
  const session = await context.newCDPSession(page);
  const { targetInfo } = await session.send('Target.getTargetInfo');
  const cdp = await browser.newBrowserCDPSession();
  for (const name of ['local-network-access', 'loopback-network']) {
    await cdp.send('Browser.setPermission', {
      permission: { name },
      setting: 'denied',
      origin,
      browserContextId: targetInfo.browserContextId,
    });
  }
}

test('BRG-7: with local network access blocked, a public page says how to allow it, not "bridge not running"', async ({ baseURL }) => {
  stack.reseed();
  card = await stack.insertCard(JOHN);
  bridge = await stack.startBridge(baseURL);
  const { context, page } = await publicPage(baseURL);
  await denyLocalNetwork(context, page, baseURL);
  await page.goto('/');
  const help = page.locator('#local-network-help');
  await expect(help).toContainText('has blocked this page from your smartcard reader');
  await expect(help).toContainText('Site settings');
  await expect(page.getByText('Card bridge not running')).toHaveCount(0);
  await expectAccessible(page);

  // "Check my setup" names the same fix, and the card steps wait for it.
  await page.getByRole('link', { name: 'Check my setup' }).click();
  await expect(page.getByRole('heading', { name: 'Check my setup' })).toBeVisible();
  await expect(page.locator('#check-local-network')).toContainText('Blocked for this website');
  await expect(page.locator('#check-bridge')).toContainText('Not reached');
  await expectAccessible(page);
});

test('BRG-7: an origin the IT department pre-approved with the Chrome policy file unlocks as a public page', async ({ baseURL }) => {
  const template = fs.readFileSync(path.join(stack.env('E2E_POLICIES_DIR'), 'chrome', 'smartcard-self-service.json'), 'utf8');
  expect(template).toContain(EXAMPLE_ORIGIN);
  fs.mkdirSync(MANAGED_POLICIES, { recursive: true });
  fs.writeFileSync(POLICY_FILE, template.replaceAll(EXAMPLE_ORIGIN, baseURL));

  const answers = JSON.parse(stack.reseed()).find((u) => u.email === JOHN_EMAIL).answers;
  await stack.clearMail();
  card = await stack.insertCard(JOHN);
  bridge = await stack.startBridge(baseURL);
  const { page } = await publicPage(baseURL);
  await unlockFromStart(page, { holder: 'Mr John Rigby', email: JOHN_EMAIL, answers, pin: 'P0licy!' });

  // Everything green on "Check my setup", the card now unlocked.
  await page.goto('/check-setup');
  await expect(page.locator('#setup-summary')).toHaveText('Everything is ready.');
  await expect(page.locator('#check-bridge')).toContainText('over HTTPS');
  await expect(page.locator('#check-card-auth-key')).toContainText('Present');
  await expect(page.locator('#check-tries')).toContainText('3');
});

test('BRG-7: a public page says what the browser will ask before it asks, asks only on Continue, and goes on once allowed', async ({ baseURL }) => {
  // A service with a name of its own, as a real one has: the page asks nothing of the
  // browser for a page on 127.0.0.1. Its certificate is for 127.0.0.1 only, hence
  // ignoreHTTPSErrors; it is the local network question that is tested here.
  const host = 'selfservice.test';
  const origin = `https://${host}:${new URL(baseURL).port}`;
  stack.reseed();
  card = await stack.insertCard(JOHN);
  bridge = await stack.startBridge(baseURL, origin);
  const { context, page } = await publicPage(origin, { host, ignoreHTTPSErrors: true });
  const toBridge = [];
  page.on('request', (request) => {
    if (new URL(request.url()).port === stack.env('E2E_BRIDGE_PORT')) toBridge.push(request.url());
  });
  await page.goto('/');
  const help = page.locator('#local-network-help');
  await expect(help).toContainText('Your browser will ask to let this page reach your smartcard reader');
  await expect(help).toContainText('Choose Allow');
  await expectAccessible(page);
  await page.waitForTimeout(1_500);
  expect(toBridge, 'nothing reaches the bridge before the user presses Continue').toEqual([]);

  // Headless Chromium answers the question as a user who chooses Block would (measured):
  // the page then says how to allow it again.
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(help).toContainText('has blocked this page from your smartcard reader');
  expect(toBridge.length, 'the press made the request').toBeGreaterThan(0);
  await expectAccessible(page);

  // The user allows it in the site settings: the page notices and goes on to the card.
  await context.grantPermissions(['local-network-access'], { origin });
  await expect(page.locator('#card-status')).toContainText('Smartcard detected');
});
