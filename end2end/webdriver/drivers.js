// The browsers Playwright cannot drive, through W3C WebDriver (ALL-3): Debian's Firefox
// ESR with geckodriver, and WebKitGTK — Safari's engine — with WebKitWebDriver and its
// MiniBrowser. We start each driver ourselves and talk to it over HTTP, so selenium
// never looks for (or downloads) a driver of its own.
const { Builder, By, until } = require('selenium-webdriver');
const stack = require('../tests/stack');

const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

const ENGINES = {
  firefox: {
    name: 'Firefox ESR',
    port: 4444,
    command: (port) => [stack.env('E2E_GECKODRIVER'), ['--host', '127.0.0.1', '--port', String(port)]],
    // The profile xtask made, where `card-bridge install` trusted this run's CA.
    capabilities: (prefs) => ({
      browserName: 'firefox',
      'moz:firefoxOptions': {
        binary: '/usr/bin/firefox-esr',
        args: ['-headless', '-profile', stack.env('E2E_FIREFOX_PROFILE')],
        prefs: {
          // This machine has no internet: no update, telemetry or portal checks.
          'network.captive-portal-service.enabled': false,
          'network.connectivity-service.enabled': false,
          'app.update.disabledForTesting': true,
          'browser.safebrowsing.update.enabled': false,
          ...prefs,
        },
      },
    }),
  },
  webkit: {
    name: 'WebKitGTK',
    port: 4445,
    command: (port) => ['WebKitWebDriver', ['--host=127.0.0.1', `--port=${port}`]],
    // It trusts the system store, where `card-bridge install` (as root) put the CA.
    capabilities: () => ({
      browserName: 'MiniBrowser',
      'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
    }),
  },
};

/** Starts the engine's WebDriver server and a browser session on it (Firefox: with `prefs`). */
async function openBrowser(engine, prefs = {}) {
  const spec = ENGINES[engine];
  const [cmd, args] = spec.command(spec.port);
  const driverProcess = new stack.Proc(`${engine}-driver`, cmd, args);
  await stack.waitForPort(spec.port);
  let driver;
  try {
    driver = await new Builder()
      .usingServer(`http://127.0.0.1:${spec.port}`)
      .withCapabilities(spec.capabilities(prefs))
      .build();
  } catch (error) {
    await driverProcess.stop();
    throw new Error(`${spec.name} did not start: ${error.message}\n${driverProcess.output}`);
  }
  return {
    name: spec.name,
    driver,
    async close() {
      try { await driver.quit(); } finally { await driverProcess.stop(); }
    },
  };
}

/**
 * Runs `steps`; if they fail, keeps a screenshot and the page's text in the run's
 * directory (test-results/) to see what the user saw.
 */
async function keepEvidence(browser, name, steps) {
  try {
    await steps();
  } catch (error) {
    const dir = require('node:path').join(__dirname, '..', 'test-results');
    const fs = require('node:fs');
    fs.mkdirSync(dir, { recursive: true });
    const file = require('node:path').join(dir, name.replace(/[^A-Za-z0-9]+/g, '-'));
    try {
      fs.writeFileSync(`${file}.png`, await browser.driver.takeScreenshot(), 'base64');
      const text = await browser.driver.findElement(By.css('body')).getText();
      fs.writeFileSync(`${file}.txt`, `${await browser.driver.getCurrentUrl()}\n\n${text}`);
    } catch (evidence) {
      error.message += ` (and no screenshot: ${evidence.message})`;
    }
    throw error;
  }
}

/** Waits for an element with this text anywhere in the page's main content. */
async function waitForText(driver, text, timeout = 20_000) {
  const xpath = `//main//*[contains(normalize-space(.), ${JSON.stringify(text)})]`;
  return driver.wait(until.elementLocated(By.xpath(xpath)), timeout, `no "${text}" on the page`);
}

/** The input labelled `label` (by the label's `for`). */
async function field(driver, label, timeout = 20_000) {
  const xpath = `//label[normalize-space(.)=${JSON.stringify(label)}]`;
  const element = await driver.wait(until.elementLocated(By.xpath(xpath)), timeout, `no "${label}" field`);
  return driver.findElement(By.id(await element.getAttribute('for')));
}

async function clickButton(driver, name) {
  const xpath = `//button[normalize-space(.)=${JSON.stringify(name)}]`;
  const button = await driver.wait(until.elementLocated(By.xpath(xpath)), 20_000, `no "${name}" button`);
  await driver.wait(until.elementIsVisible(button), 10_000);
  // WebKitGTK's driver once clicked a Start button at the viewport's bottom edge with no
  // effect (a CI run, the screenshot unchanged): the button in the middle first, as a
  // person would scroll to it.
  await driver.executeScript('arguments[0].scrollIntoView({ block: "center" })', button);
  await button.click();
}

module.exports = { ENGINES, openBrowser, keepEvidence, waitForText, field, clickButton, By, until };
