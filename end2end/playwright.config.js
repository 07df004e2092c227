// Playwright in Debian's Chromium against the real stack that `cargo xtask e2e|test`
// starts (server on HTTPS + pcscd + mail catcher); the tests' fixtures run the virtual
// card and the card bridge (HTTPS/WSS) themselves so a test can pull the card or stop the
// bridge. Chromium trusts this run's local CA through the NSS database in $HOME, which
// xtask points at the run's own home.
const { defineConfig } = require('@playwright/test');

module.exports = defineConfig({
  testDir: './tests',
  testMatch: '*.spec.js',
  workers: 1,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: {
    baseURL: process.env.E2E_BASE_URL || 'https://127.0.0.1:18080',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
});
