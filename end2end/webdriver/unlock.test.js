// ALL-3 / BRG-7: the self-service unlock as a new user does it, in Firefox ESR and in
// WebKitGTK (Safari's engine), with the page on HTTPS and the card bridge on HTTPS/WSS —
// through the real stack: page ↔ bridge ↔ pcscd + vpcd ↔ virtual card, page ↔ server ↔
// SMTP. Run by `cargo xtask e2e|test` with `node --test` under Xvfb.
const fs = require('node:fs');
const path = require('node:path');
const { test, describe, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const stack = require('../tests/stack');
const { openBrowser, keepEvidence, waitForText, field, clickButton, By } = require('./drivers');

const JOHN = 'john-rigby';
const JOHN_EMAIL = 'john.rigby@nhs.net';
const BASE = () => stack.env('E2E_BASE_URL');

// E2E_ENGINES=webkit (say) runs one engine while working on it.
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

    const name = `ALL-3 / UNL-1..7: a locked card is unlocked in ${engine}, page on HTTPS, bridge on HTTPS/WSS`;
    test(name, () => keepEvidence(browser, name, async () => {
      const { driver } = browser;
      const answers = JSON.parse(stack.reseed()).find((u) => u.email === JOHN_EMAIL).answers;
      await stack.clearMail();
      card = await stack.insertCard(JOHN);
      assert.equal(stack.showCard(JOHN).pin_tries_left, 0);
      bridge = await stack.startBridge(BASE());

      await driver.get(`${BASE()}/`);
      assert.equal(await driver.executeScript('return window.isSecureContext'), true);
      assert.match(await driver.executeScript('return location.protocol'), /^https:$/);
      // The card as the bridge sees it, over WSS.
      await waitForText(driver, 'Smartcard detected');
      await clickButton(driver, 'Start');

      // UNL-1 / UNL-2: whose card it is, from the card itself.
      await waitForText(driver, 'issued to Mr John Rigby');
      await waitForText(driver, 'disciplinary action');

      // UNL-3: the questions asked, answered with the demo answers.
      const inputs = await driver.findElements(By.css('input[data-question-id]'));
      assert.ok(inputs.length >= 2 && inputs.length <= 4, `${inputs.length} questions`);
      for (const input of inputs) {
        const id = await input.getAttribute('id');
        const label = (await driver.findElement(By.css(`label[for="${id}"]`)).getText()).trim();
        assert.ok(answers[label], `demo answer for "${label}"`);
        await input.sendKeys(`  ${answers[label].toUpperCase()} `);
      }
      await clickButton(driver, 'Next');

      // UNL-5: the code, by email. ALL-6: the flow cookie carries the attempt, and this
      // engine kept it as the server set it (WebKit drops Secure cookies on plain HTTP).
      const codeField = await field(driver, 'Smartcard Unlock Code');
      const flow = (await driver.manage().getCookies()).find((c) => c.name === '__Host-scss-flow');
      assert.ok(flow, 'the __Host- flow cookie is kept');
      assert.equal(flow.secure, true);
      assert.equal(flow.httpOnly, true);
      assert.equal(flow.sameSite, 'Strict');
      const mail = await stack.waitForMail(JOHN_EMAIL, 'Smartcard Unlock Code');
      await codeField.sendKeys(mail.text.match(/\b(\d{6})\b/)[1]);
      await clickButton(driver, 'Next');

      // UNL-6 / UNL-7: the new passcode, set on the card by the bridge.
      await (await field(driver, 'New passcode')).sendKeys('W3b!pin');
      await (await field(driver, 'Confirm passcode')).sendKeys('W3b!pin');
      await clickButton(driver, 'Confirm');
      await waitForText(driver, 'Smartcard Unlocked', 40_000);
      await stack.waitForMail(JOHN_EMAIL, 'Your smartcard has been unlocked');

      // The card itself: tries reset, and the new passcode verifies through pcscd.
      await bridge.stop();
      bridge = undefined;
      await card.stop();
      card = undefined;
      const state = stack.showCard(JOHN);
      assert.equal(state.pin_tries_left, 3);
      assert.equal(state.pin_blocked, false);
      card = await stack.insertCard(JOHN);
      await stack.verifyPinWithPivTool('W3b!pin');
    }));
  });
}

// Debian's Firefox ESR reads system-wide policies here.
const FIREFOX_POLICIES = '/etc/firefox/policies/policies.json';

describe('firefox, the page as a public website', { skip: !engines.includes('firefox') }, () => {
  let browser;
  let card;
  let bridge;

  after(async () => {
    fs.rmSync(FIREFOX_POLICIES, { force: true });
    if (browser) await browser.close();
    if (bridge) await bridge.stop();
    if (card) await card.stop();
  });

  const name = 'BRG-7: the policy pack\'s Firefox policies.json lets a public page reach the card bridge';
  test(name, async () => {
    // The pack names the service's host; here the service is 127.0.0.1, treated as public.
    const template = fs.readFileSync(path.join(stack.env('E2E_POLICIES_DIR'), 'firefox', 'policies.json'), 'utf8');
    assert.ok(template.includes('selfservice.example.nhs.uk'));
    fs.mkdirSync(path.dirname(FIREFOX_POLICIES), { recursive: true });
    fs.writeFileSync(FIREFOX_POLICIES, template.replaceAll('selfservice.example.nhs.uk', '127.0.0.1'));
    stack.reseed();
    card = await stack.insertCard(JOHN);
    bridge = await stack.startBridge(BASE());
    const { port } = new URL(BASE());
    browser = await openBrowser('firefox', { 'network.lna.address_space.public.override': `127.0.0.1:${port}` });
    await keepEvidence(browser, name, async () => {
      const { driver } = browser;
      await driver.get(`${BASE()}/`);
      await waitForText(driver, 'Smartcard detected');
      await driver.get(`${BASE()}/check-setup`);
      const bridgeLine = await waitForText(driver, 'over HTTPS');
      assert.match(await bridgeLine.getText(), /Running, version/);
      await waitForText(driver, 'Present: the card can prove it is genuine');
    });
  });
});
