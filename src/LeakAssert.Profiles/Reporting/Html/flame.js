// Lays the flame graph out as positioned divs (root on top, as pprof's flame graph), widths in percent so the page can
// be resized; a click re-roots the view at a frame, its callers drawn dimmed above to zoom back out.
(() => {
  'use strict';
  const root = JSON.parse(document.getElementById('flame-data').textContent);
  const box = document.getElementById('flame');
  const info = document.getElementById('flame-info');
  const hint = info.textContent;
  const row = 20;
  const parents = new Map();
  (function index(n) { for (const c of n.c) { parents.set(c, n); index(c); } })(root);
  const hash = s => { let h = 0; for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0; return Math.abs(h); };
  const color = n => n.k === 1 ? 'hsl(' + (18 + hash(n.n) % 24) + ', 90%, ' + (62 + hash(n.n) % 10) + '%)'
    : n.k === 2 ? 'hsl(' + (198 + hash(n.n) % 18) + ', 60%, ' + (76 + hash(n.n) % 8) + '%)'
    : n.k === 3 ? 'hsl(' + (hash(n.n) % 360) + ', 8%, ' + (84 + hash(n.n) % 6) + '%)' : '';
  const kind = n => n.k === 3 ? 'type ' : '';
  const describe = n => kind(n) + n.n + '  ' + n.s + ' (' + n.p + ' of all)';
  function frame(n, depth, left, width, ancestor) {
    const d = document.createElement('div');
    d.className = 'frame k' + n.k + (ancestor ? ' ancestor' : '');
    d.style.left = (left * 100) + '%';
    d.style.width = (width * 100) + '%';
    d.style.top = (depth * row) + 'px';
    if (n.k) d.style.background = color(n);
    d.dataset.function = n.n;
    d.title = kind(n) + n.n + '\n' + n.s + ' (' + n.p + ' of all)';
    d.textContent = n.n;
    d.addEventListener('mouseenter', () => { info.textContent = describe(n); });
    d.addEventListener('mouseleave', () => { info.textContent = hint; });
    d.addEventListener('click', () => render(n));
    box.appendChild(d);
  }
  function render(focus) {
    box.replaceChildren();
    const chain = [];
    for (let n = focus; n; n = parents.get(n)) chain.unshift(n);
    chain.forEach((n, i) => { if (n !== focus) frame(n, i, 0, 1, true); });
    let deepest = 0;
    (function lay(n, depth, left, width) {
      deepest = Math.max(deepest, depth);
      frame(n, depth, left, width, false);
      let x = left;
      for (const c of n.c) {
        const w = width * c.v / n.v;
        if (w >= 0.0005) lay(c, depth + 1, x, w);
        x += w;
      }
    })(focus, chain.length - 1, 0, 1);
    box.style.height = ((deepest + 1) * row) + 'px';
  }
  render(root);
})();
