// SCSC-1…SCSC-3 in Firefox ESR and WebKitGTK: John unlocks his locked card through the
// Smartcard Service Centre's route — his Account Recovery details, then a One Time
// Passcode by text, read from the GOV.UK Notify stand-in (SMS-2) — with the page on HTTPS
// and the bridge on HTTPS/WSS. Run by `cargo xtask e2e|test` with `node --test` under Xvfb.
const { test, describe, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const stack = require('../tests/stack');
const { openBrowser, keepEvidence, waitForText, field, clickButton, By } = require('./drivers');

const JOHN = 'john-rigby';
const JOHN_MOBILE = '+447700900123';
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

    const name = `SCSC-1..3: John unlocks with a texted One Time Passcode in ${engine}`;
    test(name, () => keepEvidence(browser, name, async () => {
      const { driver } = browser;
      stack.reseed();
      const before = (await stack.texts(JOHN_MOBILE)).length;
      card = await stack.insertCard(JOHN);
      bridge = await stack.startBridge(BASE());

      await driver.get(`${BASE()}/`);
      await waitForText(driver, 'Smartcard detected');
      await driver.findElement(By.id('other-route-link')).click();
      await waitForText(driver, 'Smartcard Service Centre');
      await clickButton(driver, 'Start');
      await waitForText(driver, 'issued to Mr John Rigby');

      await (await field(driver, "User's Unique Identifier (UUID)")).sendKeys('555555555501');
      await (await field(driver, 'Family Name')).sendKeys('rigby');
      await (await field(driver, 'Account Recovery Passcode')).sendKeys('Recovery pass 1');
      await clickButton(driver, 'OK');

      await waitForText(driver, 'We recommend you choose Email');
      await (await field(driver, 'SMS (text message)')).click();
      await clickButton(driver, 'OK');

      const codeField = await field(driver, 'One Time Passcode');
      const text = await stack.waitForText(JOHN_MOBILE, before);
      assert.match(text.personalisation.code, /^[A-Z0-9]{12}$/);
      await codeField.sendKeys(text.personalisation.code);
      await clickButton(driver, 'Next');

      await (await field(driver, 'New passcode')).sendKeys('Scsc!pin');
      await (await field(driver, 'Confirm passcode')).sendKeys('Scsc!pin');
      await clickButton(driver, 'Confirm');
      await waitForText(driver, 'Smartcard Unlocked', 40_000);

      await bridge.stop();
      bridge = undefined;
      await card.stop();
      card = undefined;
      assert.equal(stack.showCard(JOHN).pin_tries_left, 3);
      card = await stack.insertCard(JOHN);
      await stack.verifyPinWithPivTool('Scsc!pin');
    }));
  });
}
