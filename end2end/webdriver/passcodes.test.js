// PASS-2 in Firefox ESR and WebKitGTK: a cardholder sets all three passcodes in one
// Update — the card's own changed by the bridge under the server's grant (page on HTTPS,
// bridge on HTTPS/WSS) — and the card then takes the new passcode at sign-in. Run by
// `cargo xtask e2e|test` with `node --test` under Xvfb, after the renewal.
const { test, describe, before, after, afterEach } = require('node:test');
const stack = require('../tests/stack');
const { openBrowser, keepEvidence, waitForText, field, clickButton } = require('./drivers');

const AMIRA = 'amira-khan';
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

    const name = `PASS-2: all three passcodes in one Update in ${engine}`;
    test(name, () => keepEvidence(browser, name, async () => {
      const { driver } = browser;
      stack.reseed();
      card = await stack.insertCard(AMIRA);
      bridge = await stack.startBridge(BASE());

      await driver.get(`${BASE()}/login?next=/passcodes`);
      await waitForText(driver, 'Smartcard detected');
      await (await field(driver, 'Smartcard passcode')).sendKeys('1234');
      await clickButton(driver, 'Sign in');
      await waitForText(driver, 'Manage Passcodes');
      await waitForText(driver, 'Smartcard detected');
      const type = async (id, text) => (await driver.findElement({ id })).sendKeys(text);
      await type('new-recovery', 'Recovery pass 1');
      await type('confirm-recovery', 'Recovery pass 1');
      await type('new-verification', 'Verify pass 1');
      await type('confirm-verification', 'Verify pass 1');
      await type('new-card-passcode', '5678');
      await type('confirm-card-passcode', '5678');
      await type('current-passcode', '1234');
      await clickButton(driver, 'Update');
      await waitForText(driver, 'Your passcodes have been updated successfully.', 40_000);

      // The card takes its new passcode at the next sign-in.
      await driver.get(`${BASE()}/login`);
      await waitForText(driver, 'Smartcard detected');
      await (await field(driver, 'Smartcard passcode')).sendKeys('5678');
      await clickButton(driver, 'Sign in');
      await waitForText(driver, 'My card');
    }));
  });
}
