// CERT-2 / CERT-3 in Firefox ESR and WebKitGTK: a cardholder whose certificates end in 15
// days signs in, is sent to renewal first, and the card makes new keys and takes its new
// certificates through the bridge's sealed relay (page on HTTPS, bridge on HTTPS/WSS);
// then they sign in again with the new certificate. Run by `cargo xtask e2e|test` with
// `node --test` under Xvfb, after the unlock.
const { test, describe, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const stack = require('../tests/stack');
const { openBrowser, keepEvidence, waitForText, field, clickButton } = require('./drivers');

const TOM = 'tom-hughes';
const BASE = () => stack.env('E2E_BASE_URL');
const engines = (process.env.E2E_ENGINES || 'firefox,webkit').split(',');

for (const engine of engines) {
  describe(engine, () => {
    let browser;
    let card;
    let bridge;

    before(async () => { browser = await openBrowser(engine); });
    after(async () => { if (browser) await browser.close(); });
    afterEach(async () => {
      if (bridge) await bridge.stop();
      bridge = undefined;
      if (card) await card.stop();
      card = undefined;
    });

    const name = `CERT-2 / CERT-3: a card 15 days from expiry is renewed in ${engine}`;
    test(name, () => keepEvidence(browser, name, async () => {
      const { driver } = browser;
      stack.reseed();
      card = await stack.insertCard(TOM);
      bridge = await stack.startBridge(BASE());
      const year = String(new Date().getUTCFullYear() + 3);

      await driver.get(`${BASE()}/login`);
      await waitForText(driver, 'Smartcard detected');
      await (await field(driver, 'Smartcard passcode')).sendKeys('1234');
      await clickButton(driver, 'Sign in');
      // CERT-2: within 20 days, renewal before anything else.
      await waitForText(driver, 'Renew your certificates');
      assert.match(await driver.getCurrentUrl(), /\/renew$/);
      await waitForText(driver, 'Smartcard detected');
      await (await field(driver, 'Smartcard passcode')).sendKeys('1234');
      await clickButton(driver, 'Renew my certificates');
      await waitForText(driver, 'Your certificates have been renewed', 40_000);
      await waitForText(driver, year);

      // CERT-3: signed out; in again with the new certificate.
      await driver.get(`${BASE()}/login`);
      await waitForText(driver, 'Smartcard detected');
      await (await field(driver, 'Smartcard passcode')).sendKeys('1234');
      await clickButton(driver, 'Sign in');
      await waitForText(driver, 'My card');
      await waitForText(driver, '1 of 2 self-service renewals used');
      const expiry = await (await driver.findElement({ id: 'my-certificate-expiry' })).getText();
      assert.ok(expiry.includes(year), expiry);
    }));
  });
}
