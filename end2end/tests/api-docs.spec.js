// OPS-1: the API reference page — Swagger UI served from our own files, reading the
// document the server builds from its routes — draws every operation within the page's
// Content-Security-Policy, and asks no other host for anything.
const { test, expect } = require('@playwright/test');

test('OPS-1: the API reference page shows every operation from our own files, within our CSP', async ({ page, baseURL }) => {
  const origin = new URL(baseURL).origin;
  const elsewhere = [];
  const refused = [];
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(origin) && !url.startsWith('data:')) elsewhere.push(url);
  });
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
  });
  await page.goto(`${baseURL}/api-docs`);
  await expect(page).toHaveURL(/\/api-docs\/index\.html$/);
  await expect(page.getByRole('heading', { name: /Smartcard Self-Service/ })).toBeVisible();
  const operations = page.locator('.opblock');
  await expect(operations.first()).toBeVisible();
  const documented = await (await page.request.get(`${baseURL}/api/openapi.json`)).json();
  const count = Object.values(documented.paths).reduce((n, item) => n + Object.keys(item).length, 0);
  await expect(operations).toHaveCount(count);
  await expect(page.getByText('/api/unlock/{id}/code', { exact: true })).toBeVisible();
  expect(elsewhere).toEqual([]);
  // Swagger UI's stylesheet draws a few icons as data: images, which img-src 'self'
  // refuses (cosmetic); no script or style is refused.
  expect(refused.filter((text) => !/img-src/.test(text))).toEqual([]);
});
