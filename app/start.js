// Loads the WASM app; kept out of index.html so a strict Content-Security-Policy needs no
// inline script.
import init from '/app.js';
init();
