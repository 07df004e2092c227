// Loads one entry's WASM (app/build.sh writes start-{entry}.js for each); kept out of
// the page so a strict Content-Security-Policy needs no inline script.
import init from '/{entry}.js';
init();
