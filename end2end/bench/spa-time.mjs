// `cargo xtask bench spa`: milliseconds from navigation until the page at URL is usable —
// its heading shown and #start-button pressable (aria-disabled="false") — in Debian's
// Chromium with the network throttled through CDP to 1.6 Mbit/s down, 150 ms round trip,
// no cache. Prints each run, then "median N".
// Usage: node bench/spa-time.mjs URL [RUNS]
import { chromium } from '@playwright/test';

const [url, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 5);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
const times = [];
for (let run = 0; run < runs; run++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 150,
    downloadThroughput: 1.6e6 / 8,
    uploadThroughput: 0.75e6 / 8,
  });
  await page.addInitScript(() => {
    const usable = () => {
      const start = document.getElementById('start-button');
      return document.querySelector('h1') && start && start.getAttribute('aria-disabled') === 'false';
    };
    const check = () => {
      if (window.usableAt === undefined && usable()) window.usableAt = performance.now();
    };
    new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true });
  });
  await page.goto(url);
  await page.waitForFunction(() => window.usableAt !== undefined, null, { timeout: 120_000 });
  const at = await page.evaluate(() => window.usableAt);
  times.push(at);
  console.log(`run ${run + 1}: ${at.toFixed(0)} ms`);
  await context.close();
}
await browser.close();
times.sort((a, b) => a - b);
console.log(`median ${times[Math.floor(times.length / 2)].toFixed(0)}`);
