// The simulator's thread: owns the wasm Inspector, so long runs never block
// the page. Messages in: {id, type: 'load' | 'run' | 'export', ...};
// out: {type: 'ready'}, {type: 'progress', phase, done, total},
// {id, type: 'done', value} or {id, type: 'error', message}.
import init, { Inspector, exportToml, policies, formats } from './pkg/strata_inspector.js';

let inspector = null;
const ready = init().then(() => {
  inspector = new Inspector();
  postMessage({ type: 'ready', policies: JSON.parse(policies()), formats: JSON.parse(formats()) });
}).catch((err) => postMessage({ type: 'fatal', message: String(err && err.message || err) }));

// Progress is reported every `progressEvery` requests by the wasm side;
// forwarding each call is cheap (a few hundred messages per run at most).
function progress(phase, done, total) {
  postMessage({ type: 'progress', phase, done, total });
}

onmessage = async (event) => {
  await ready;
  const m = event.data;
  try {
    let value;
    switch (m.type) {
      case 'load':
        value = JSON.parse(inspector.load(new Uint8Array(m.bytes), m.name, m.format || undefined, progress));
        break;
      case 'run':
        value = JSON.parse(inspector.run(JSON.stringify(m.config), progress));
        break;
      case 'export':
        value = exportToml(JSON.stringify(m.config));
        break;
      default:
        throw new Error(`unknown request ${m.type}`);
    }
    postMessage({ id: m.id, type: 'done', value });
  } catch (err) {
    postMessage({ id: m.id, type: 'error', message: String(err && err.message || err) });
  }
};
