// Issue 18: each audience's page downloads only its own WASM, and no page asks any host
// but our server and the card bridge for anything (the NHS font comes from our own files
// or not at all), nor leaves a failed request in the console.
const { test, expect } = require('@playwright/test');
const stack = require('./stack');
const { expectAccessible, signIn } = require('./pages');

let card;
let bridge;

test.beforeEach(async ({ baseURL }) => {
  stack.reseed();
  card = await stack.insertCard('john-rigby');
  bridge = await stack.startBridge(baseURL);
});

test.afterEach(async () => {
  if (bridge) await bridge.stop();
  if (card) await card.stop();
  bridge = undefined;
  card = undefined;
});

const PAGES = [
  ['/', 'unlock', 'Smartcard Unlock'],
  ['/unlock', 'unlock', 'Smartcard Unlock'],
  ['/login', 'account', 'Sign in with your smartcard'],
  ['/my-card', 'account', null],
  ['/register', 'account', null],
  ['/check-setup', 'account', 'Check my setup'],
  ['/renew', 'renew', null],
  ['/ra', 'ra', null],
  ['/ra/audit', 'ra', null],
  ['/nowhere', 'unlock', 'Page not found'],
];

for (const [path, entry, heading] of PAGES) {
  test(`issue 18: ${path} loads the ${entry} WASM only, and only from our server and the bridge`, async ({ page, baseURL }) => {
    const ours = [new URL(baseURL).origin, `https://127.0.0.1:${stack.env('E2E_BRIDGE_PORT')}`];
    const asked = [];
    const failed = [];
    page.on('request', (request) => asked.push(request.url()));
    page.on('requestfailed', (request) => failed.push(`${request.url()}: ${request.failure()?.errorText}`));
    await page.goto(path);
    await expect(page.locator('main h1')).toBeVisible();
    if (heading) await expect(page.locator('main h1')).toHaveText(heading);
    // What the page asks for once drawn (the bridge's status, the config) is asked by now.
    await page.waitForTimeout(1500);
    const elsewhere = asked.filter((url) => !ours.includes(new URL(url).origin));
    expect(elsewhere).toEqual([]);
    expect(failed).toEqual([]);
    const wasm = asked.filter((url) => url.endsWith('.wasm')).map((url) => new URL(url).pathname);
    expect(wasm).toEqual([`/${entry}_bg.wasm`]);
  });
}

// ALL-3 (WCAG 2.2 AA, 1.4.10 reflow): at 320 CSS px no page scrolls sideways — a table too
// wide for the screen scrolls inside its own region, which the keyboard can reach — and
// axe finds nothing, signed in as an RA so the console's tables are full.
test('ALL-3: no page scrolls sideways at 320 CSS px wide, and axe passes on each', async ({ page }) => {
  await card.stop();
  card = await stack.insertCard('ravi-patel');
  await page.setViewportSize({ width: 320, height: 640 });
  await signIn(page, '1234', '/login?next=/ra');
  await expect(page.locator('#ra-search')).toBeVisible({ timeout: 20_000 });
  for (const path of ['/', '/check-setup', '/login', '/my-card', '/register', '/renew', '/ra',
    '/ra/users/555555555501', '/ra/audit', '/ra/reports', '/nowhere']) {
    await page.goto(path);
    await expect(page.locator('main h1')).toBeVisible();
    // Tables and lists fill in after the page's first paint.
    await page.waitForTimeout(1000);
    const { scrollWidth, clientWidth } = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
    }));
    expect(scrollWidth, `${path} is ${scrollWidth} px wide`).toBeLessThanOrEqual(clientWidth);
    await expectAccessible(page);
  }
});
