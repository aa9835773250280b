/* geo3d map3d viewer: draws a scene written by geo3d.viz (window.GEO3D_SCENE) with deck.gl.
 * Everything is local metres around scene.origin (COORDINATE_SYSTEM.METER_OFFSETS); binary
 * arrays arrive base64-encoded (little-endian). No network access. BSD-3-Clause (geo3d). */
(function () {
  'use strict';
  const S = window.GEO3D_SCENE;
  const R = 6378137.0;
  const $ = (id) => document.getElementById(id);
  const state = { exaggeration: S.exaggeration || 1, level: null, hidden: {}, selected: null };
  window.GEO3D = { state: state, scene: S, ready: false };

  // ---------- decoding ----------------------------------------------------------------------
  function b64(s, Type) {
    const bin = atob(s);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Type(bytes.buffer);
  }
  const TYPES = { f32: Float32Array, u8: Uint8Array, u32: Uint32Array, i32: Int32Array };
  function arr(v) { return v && v.b64 !== undefined ? b64(v.b64, TYPES[v.dtype]) : v; }
  S.layers.forEach((l) => { Object.keys(l).forEach((k) => { if (l[k] && l[k].b64 !== undefined) l[k] = arr(l[k]); }); });
  Object.values(S.tables).forEach((t) => { // dictionary-coded columns back to plain arrays
    Object.keys(t.values).forEach((c) => { const v = t.values[c]; if (v && v.dict) { const codes = arr(v.codes); t.values[c] = Array.from(codes, (i) => v.dict[i]); } });
  });
  if (S.search_features) { // one entry per feature of the tubes: its title → its first segment
    const t = S.tables[S.search_features], seen = new Set();
    S.layers.forEach((l) => {
      if (l.type !== 'tubes' || l.halo || l.table !== S.search_features) return;
      for (let i = 0; i < l.feature.length; i++) {
        const f = l.feature[i]; if (seen.has(f)) continue; seen.add(f);
        S.search.push({ text: String(t.values[t.title_column][f]), table: l.table, feature: f,
          position: [0, 1, 2].map((k) => (l.a[3 * i + k] + l.b[3 * i + k]) / 2) });
      }
    });
  }

  // ---------- geometry helpers --------------------------------------------------------------
  const lat0 = S.origin[1] * Math.PI / 180;
  // deck.gl's own metre offsets → lng/lat (the same conversion as METER_OFFSETS layers)
  const originViewport = new deck.WebMercatorViewport({ longitude: S.origin[0], latitude: S.origin[1], zoom: 12, width: 1, height: 1 });
  function toLngLat(x, y) {
    const p = originViewport.addMetersToLngLat([S.origin[0], S.origin[1], 0], [x, y, 0]);
    return [p[0], p[1]];
  }
  function zoomFor(spanM, px) {
    return Math.log2(2 * Math.PI * R * Math.cos(lat0) * px / (512 * Math.max(spanM, 1)));
  }
  function unitCylinder(n) { // along +x from -0.5 to 0.5, radius 0.5, with caps
    const pos = [], nor = [], idx = [];
    for (let i = 0; i <= n; i++) {
      const a = 2 * Math.PI * i / n, c = Math.cos(a), s = Math.sin(a);
      pos.push(-0.5, 0.5 * c, 0.5 * s, 0.5, 0.5 * c, 0.5 * s); nor.push(0, c, s, 0, c, s);
    }
    for (let i = 0; i < n; i++) { const k = 2 * i; idx.push(k, k + 1, k + 2, k + 1, k + 3, k + 2); }
    [-0.5, 0.5].forEach((x) => {
      const base = pos.length / 3; pos.push(x, 0, 0); nor.push(Math.sign(x), 0, 0);
      for (let i = 0; i <= n; i++) { const a = 2 * Math.PI * i / n; pos.push(x, 0.5 * Math.cos(a), 0.5 * Math.sin(a)); nor.push(Math.sign(x), 0, 0); }
      for (let i = 0; i < n; i++) idx.push(base, base + 1 + i, base + 2 + i);
    });
    return mesh(new Float32Array(pos), new Float32Array(nor), new Uint32Array(idx));
  }
  function unitBox() {
    const p = [], nn = [], idx = [];
    const faces = [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]];
    faces.forEach((f) => {
      const ax = f.findIndex((v) => v !== 0), u = (ax + 1) % 3, w = (ax + 2) % 3, base = p.length / 3;
      [[-1, -1], [1, -1], [1, 1], [-1, 1]].forEach(([a, b]) => {
        const v = [0, 0, 0]; v[ax] = 0.5 * f[ax]; v[u] = 0.5 * a; v[w] = 0.5 * b; p.push(...v); nn.push(...f);
      });
      idx.push(base, base + 1, base + 2, base, base + 2, base + 3);
    });
    return mesh(new Float32Array(p), new Float32Array(nn), new Uint32Array(idx));
  }
  function mesh(positions, normals, indices) {
    return { attributes: { POSITION: { value: positions, size: 3 }, NORMAL: { value: normals, size: 3 } },
             indices: { value: indices, size: 1 }, topology: 'triangle-list', mode: 4 };
  }
  const CYL = unitCylinder(10), BOX = unitBox();

  // per-segment instance attributes for the tube meshes, recomputed when exaggeration changes
  function segmentAttributes(l, k) {
    const n = l.w.length, a = l.a, b = l.b;
    const pos = new Float32Array(n * 3), mat = new Float32Array(n * 12);
    const src = new Float32Array(n * 3), dst = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      const j = 3 * i, m = 12 * i, dx = b[j] - a[j], dy = b[j + 1] - a[j + 1], dz = (b[j + 2] - a[j + 2]) * k;
      const len = Math.hypot(dx, dy, dz) || 1e-6, ux = dx / len, uy = dy / len, uz = dz / len;
      let vx = -uy, vy = ux, vn = Math.hypot(vx, vy);
      if (vn < 1e-9) { vx = 1; vy = 0; vn = 1; }
      vx /= vn; vy /= vn;
      const wx = -uz * vy, wy = uz * vx, wz = ux * vy - uy * vx; // u x v
      const L = len + 0.5 * Math.min(l.w[i], l.h[i]); // slight overlap closes the joints
      mat[m] = ux * L; mat[m + 1] = uy * L; mat[m + 2] = uz * L;
      mat[m + 3] = vx * l.w[i]; mat[m + 4] = vy * l.w[i]; mat[m + 5] = 0;
      mat[m + 6] = wx * l.h[i]; mat[m + 7] = wy * l.h[i]; mat[m + 8] = wz * l.h[i];
      pos[j] = (a[j] + b[j]) / 2; pos[j + 1] = (a[j + 1] + b[j + 1]) / 2; pos[j + 2] = (a[j + 2] + b[j + 2]) / 2 * k;
      src[j] = a[j]; src[j + 1] = a[j + 1]; src[j + 2] = a[j + 2] * k;
      dst[j] = b[j]; dst[j + 1] = b[j + 1]; dst[j + 2] = b[j + 2] * k;
    }
    return { pos, mat, src, dst };
  }
  function scaleZ(values, k) { const out = Float32Array.from(values); for (let i = 2; i < out.length; i += 3) out[i] *= k; return out; }

  // ---------- layers ------------------------------------------------------------------------
  const common = { coordinateSystem: deck.COORDINATE_SYSTEM.METER_OFFSETS, coordinateOrigin: [S.origin[0], S.origin[1], 0] };
  const cache = {};
  function visible(l) {
    if (state.hidden[l.group || l.id]) return false;
    if (state.level !== null && l.level !== undefined && l.level !== null && l.level !== state.level) return false;
    return true;
  }
  function buildLayer(l) {
    const k = state.exaggeration, vis = visible(l), id = l.id;
    if (l.type === 'tubes') {
      const key = id + '@' + k;
      if (!cache[key]) cache[key] = segmentAttributes(l, k);
      const g = cache[key], n = l.w.length;
      const out = [];
      if (l.lines !== false) {
        out.push(new deck.LineLayer({ ...common, id: id + '-lines', visible: vis, pickable: true, tableName: l.table, feature: l.feature,
          data: { length: n, attributes: { getSourcePosition: { value: g.src, size: 3 }, getTargetPosition: { value: g.dst, size: 3 },
                   getColor: { value: l.color, size: 4, normalized: true } } },
          getWidth: l.line_px || 2, widthUnits: 'pixels', opacity: l.opacity || 1,
          parameters: l.halo ? { depthCompare: 'always', depthWriteEnabled: false } : {} }));
      }
      if (l.mesh !== false) {
        out.push(new deck.SimpleMeshLayer({ ...common, id: id + '-tubes', visible: vis, pickable: true, tableName: l.table, feature: l.feature,
          mesh: l.shape === 'box' ? BOX : CYL,
          data: { length: n, attributes: { getPosition: { value: g.pos, size: 3 }, instanceModelMatrix: { value: g.mat, size: 12 },
                   getColor: { value: l.color, size: 4, normalized: true } } },
          opacity: l.opacity || 1, material: { ambient: 0.55, diffuse: 0.6, shininess: 24, specularColor: [60, 60, 60] },
          parameters: l.halo ? { depthWriteEnabled: false } : {} }));
      }
      return out;
    }
    if (l.type === 'mesh') {
      const key = id + '@' + k;
      if (!cache[key]) cache[key] = mesh(scaleZ(l.positions, k), l.normals, l.indices);
      return [new deck.SimpleMeshLayer({ ...common, id, visible: vis, pickable: false, data: [0], mesh: cache[key],
        getPosition: [0, 0, 0], getColor: l.color, opacity: l.opacity === undefined ? 1 : l.opacity,
        material: { ambient: 0.7, diffuse: 0.4, shininess: 0, specularColor: [0, 0, 0] },
        parameters: { depthWriteEnabled: l.depth_write !== false, cullMode: 'none' } })];
    }
    if (l.type === 'polygons') {
      const data = l.polygons.map((p, i) => ({ polygon: p.map((q) => [q[0], q[1], (l.base[i]) * k]), i, f: l.feature ? l.feature[i] : i }));
      return [new deck.SolidPolygonLayer({ ...common, id, visible: vis, pickable: !!l.table, tableName: l.table, data, extruded: true,
        getPolygon: (d) => d.polygon, getElevation: (d) => l.height[d.i] * k, getFillColor: (d) => l.colors[d.i],
        opacity: l.opacity || 1, material: { ambient: 0.6, diffuse: 0.5, shininess: 8 },
        parameters: l.depth_write === false ? { depthWriteEnabled: false } : {} }),
        new deck.PathLayer({ ...common, id: id + '-outline', visible: vis, pickable: false,
          data: data.flatMap((d) => [d.polygon.concat([d.polygon[0]]),
                                     d.polygon.concat([d.polygon[0]]).map((q) => [q[0], q[1], q[2] + l.height[d.i] * k])]),
          getPath: (d) => d, getColor: l.line_color || [40, 40, 40, 200], widthUnits: 'pixels', getWidth: l.line_px || 1 })];
    }
    if (l.type === 'points') {
      const n = l.positions.length / 3;
      return [new deck.ScatterplotLayer({ ...common, id, visible: vis, pickable: !!l.table, tableName: l.table, feature: l.feature,
        data: { length: n, attributes: { getPosition: { value: scaleZ(l.positions, k), size: 3 }, getFillColor: { value: l.color, size: 4, normalized: true } } },
        getRadius: l.radius || 0.5, radiusMinPixels: l.min_px || 4, stroked: true, getLineColor: [20, 20, 20, 255], lineWidthUnits: 'pixels', getLineWidth: 1,
        billboard: true })];
    }
    if (l.type === 'paths') {
      return [new deck.PathLayer({ ...common, id, visible: vis, pickable: false, data: l.paths.map((p) => p.map((q) => [q[0], q[1], q[2] * k])),
        getPath: (d) => d, getColor: l.color, getWidth: l.width_px || 2, widthUnits: 'pixels', parameters: l.on_top ? { depthCompare: 'always' } : {} })];
    }
    if (l.type === 'text') {
      return [new deck.TextLayer({ ...common, id, visible: vis, data: l.items, getPosition: (d) => [d.position[0], d.position[1], d.position[2] * k],
        getText: (d) => d.text, getColor: l.color || [20, 20, 20, 255], getSize: l.size || 13, characterSet: 'auto', fontFamily: 'NanumGothic, "Noto Sans CJK KR", "Malgun Gothic", sans-serif',
        background: true, getBackgroundColor: [255, 255, 255, 220], backgroundPadding: [3, 1], billboard: true,
        parameters: { depthCompare: 'always' } })];
    }
    return [];
  }
  function selectionLayers() {
    const s = state.selected;
    if (!s || !s.segments) return [];
    const k = state.exaggeration;
    return [new deck.PathLayer({ ...common, id: 'selection', data: s.segments.map((p) => p.map((q) => [q[0], q[1], q[2] * k])), getPath: (d) => d,
      getColor: [255, 255, 255, 255], getWidth: 5, widthUnits: 'pixels', parameters: { depthCompare: 'always' } }),
      new deck.PathLayer({ ...common, id: 'selection-core', data: s.segments.map((p) => p.map((q) => [q[0], q[1], q[2] * k])), getPath: (d) => d,
      getColor: [20, 20, 20, 255], getWidth: 2, widthUnits: 'pixels', parameters: { depthCompare: 'always' } })];
  }
  function layers() { // labels after everything (the translucent ground would tint them)
    const last = (l) => l.type === 'text' || l.on_top;
    return S.layers.filter((l) => !last(l)).flatMap(buildLayer).concat(selectionLayers(), S.layers.filter(last).flatMap(buildLayer));
  }

  // ---------- attributes --------------------------------------------------------------------
  function record(table, f) {
    const t = S.tables[table], out = [];
    if (!t) return out;
    t.columns.forEach((c) => { const v = t.values[c][f]; if (v !== '' && v !== null && v !== undefined) out.push([c, v]); });
    return out;
  }
  function featureOf(info) {
    const p = info.layer && info.layer.props;
    if (!p || !p.tableName) return null;
    const f = info.object && info.object.f !== undefined ? info.object.f : (p.feature ? p.feature[info.index] : info.index);
    return { table: p.tableName, feature: f };
  }
  function segmentsOf(table, f) {
    const segs = [];
    S.layers.forEach((l) => {
      if (l.table !== table || l.type !== 'tubes' || l.halo) return;
      for (let i = 0; i < l.feature.length; i++) if (l.feature[i] === f) segs.push([[l.a[3 * i], l.a[3 * i + 1], l.a[3 * i + 2]], [l.b[3 * i], l.b[3 * i + 1], l.b[3 * i + 2]]]);
    });
    S.layers.forEach((l) => {
      if (l.table !== table || l.type !== 'polygons') return;
      const i = l.feature ? l.feature.indexOf(f) : f; const p = l.polygons[i]; if (!p) return;
      const top = l.base[i] + l.height[i];
      segs.push(p.concat([p[0]]).map((q) => [q[0], q[1], top]));
    });
    return segs;
  }
  function select(table, f) {
    if (table === null) { state.selected = null; $('g3-info').style.display = 'none'; redraw(); return; }
    state.selected = { table, feature: f, segments: segmentsOf(table, f) };
    const rows = record(table, f);
    const t = S.tables[table];
    $('g3-info-title').textContent = (t.title_column && t.values[t.title_column][f]) || table;
    $('g3-info-body').innerHTML = rows.map(([c, v]) => '<tr><th>' + esc(c) + '</th><td>' + esc(String(v)) + '</td></tr>').join('');
    $('g3-info').style.display = 'block';
    window.GEO3D.selected = { table, feature: f, attributes: Object.fromEntries(rows) };
    redraw();
  }
  function esc(s) { return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c])); }
  function tooltip(info) {
    const f = featureOf(info);
    if (!f || f.feature === undefined) return null;
    const t = S.tables[f.table];
    const txt = (t.hover || []).map((c) => t.values[c][f.feature]).filter((v) => v !== '' && v !== null).join(' · ');
    return txt ? { text: txt, style: { fontSize: '12px', background: 'rgba(20,20,20,0.85)', color: '#fff', padding: '4px 6px' } } : null;
  }

  // ---------- view, scale, compass ----------------------------------------------------------
  function fitView() {
    const b = S.bounds, w = window.innerWidth, h = window.innerHeight;
    const cx = (b[0] + b[3]) / 2, cy = (b[1] + b[4]) / 2, span = Math.max((b[3] - b[0]) * 1.15, (b[4] - b[1]) * 1.15 * w / h, 5);
    const [lng, lat] = toLngLat(cx, cy);
    return { longitude: lng, latitude: lat, zoom: zoomFor(span, w) + (S.view && S.view.zoom_offset || 0), pitch: S.view ? S.view.pitch : 45,
             bearing: S.view ? S.view.bearing : 0, minZoom: 5, maxZoom: 24, maxPitch: 85 };
  }
  let viewState = fitView();
  function updateOverlays(vs) {
    const mpp = 2 * Math.PI * R * Math.cos(vs.latitude * Math.PI / 180) / (512 * Math.pow(2, vs.zoom));
    const target = 120 * mpp, p = Math.pow(10, Math.floor(Math.log10(target)));
    const nice = [5, 2, 1].map((m) => m * p).find((v) => v <= target) || p;
    $('g3-scale-bar').style.width = (nice / mpp).toFixed(0) + 'px';
    $('g3-scale-label').textContent = nice >= 1000 ? (nice / 1000) + ' km' : (nice >= 1 ? nice + ' m' : (nice * 100).toFixed(0) + ' cm');
    $('g3-compass-needle').style.transform = 'rotate(' + (-vs.bearing) + 'deg)';
  }

  // ---------- UI ----------------------------------------------------------------------------
  function legend() {
    const box = $('g3-legend');
    box.innerHTML = '<div class="g3-h">' + esc(S.legend_title || 'Legend') + '</div>' + S.legend.map((e) => {
      const sw = '<span class="g3-sw g3-' + (e.shape || 'line') + '" style="background:rgba(' + e.color.slice(0, 3).join(',') + ',' + ((e.color[3] === undefined ? 255 : e.color[3]) / 255) + ')"></span>';
      const cb = e.group ? '<input type="checkbox" data-group="' + esc(e.group) + '" checked> ' : '';
      return '<label class="g3-row">' + cb + sw + esc(e.label) + '</label>';
    }).join('') + (S.legend_note ? '<div class="g3-note">' + esc(S.legend_note) + '</div>' : '');
    box.querySelectorAll('input[data-group]').forEach((el) => el.addEventListener('change', () => { state.hidden[el.dataset.group] = !el.checked; redraw(); }));
  }
  function levels() {
    const box = $('g3-levels');
    if (!S.levels || !S.levels.length) { box.style.display = 'none'; return; }
    const btn = (v, label) => '<button data-level="' + v + '">' + esc(label) + '</button>';
    box.innerHTML = '<span class="g3-h">Level</span>' + btn('all', 'All') + S.levels.map((l) => btn(l.floor, l.label)).join('');
    box.querySelectorAll('button').forEach((el) => el.addEventListener('click', () => setLevel(el.dataset.level === 'all' ? null : Number(el.dataset.level))));
    markLevel();
  }
  function markLevel() { $('g3-levels').querySelectorAll('button').forEach((el) => el.classList.toggle('on', (el.dataset.level === 'all' ? null : Number(el.dataset.level)) === state.level)); }
  function setLevel(v) { state.level = v; markLevel(); redraw(); }
  function search() {
    const box = $('g3-search');
    if (!S.search || !S.search.length) { box.style.display = 'none'; return; }
    $('g3-search-list').innerHTML = S.search.slice(0, 5000).map((e) => '<option value="' + esc(e.text) + '">').join('');
    const go = () => {
      const q = $('g3-search-input').value.trim().toLowerCase();
      if (!q) return;
      const hit = S.search.find((e) => e.text.toLowerCase() === q) || S.search.find((e) => e.text.toLowerCase().includes(q));
      $('g3-search-msg').textContent = hit ? '' : 'not found';
      if (!hit) return;
      if (hit.level !== undefined && hit.level !== null) setLevel(hit.level);
      flyTo(hit.position);
      select(hit.table, hit.feature);
    };
    $('g3-search-input').addEventListener('keydown', (e) => { if (e.key === 'Enter') go(); });
    $('g3-search-go').addEventListener('click', go);
  }
  function flyTo(p, span, opts) {
    const [lng, lat] = toLngLat(p[0], p[1]);
    const o = opts || {};
    viewState = { ...viewState, longitude: lng, latitude: lat, zoom: span ? zoomFor(span, window.innerWidth) : Math.max(viewState.zoom, zoomFor(40, window.innerWidth)),
                  pitch: o.pitch === undefined ? 50 : o.pitch, bearing: o.bearing === undefined ? viewState.bearing : o.bearing,
                  transitionDuration: o.duration === undefined ? 800 : o.duration, transitionInterpolator: new deck.FlyToInterpolator() };
    instance.setProps({ initialViewState: viewState });
  }
  function exaggeration() {
    const sel = $('g3-exag');
    if (!S.exaggerations) { $('g3-exag-box').style.display = 'none'; return; }
    sel.innerHTML = S.exaggerations.map((v) => '<option value="' + v + '"' + (v === state.exaggeration ? ' selected' : '') + '>' + v + '×</option>').join('');
    sel.addEventListener('change', () => { state.exaggeration = Number(sel.value); redraw(); });
  }
  function lists() {
    const box = $('g3-list');
    if (!S.lists || !S.lists.length) { box.style.display = 'none'; return; }
    box.innerHTML = S.lists.map((L) => '<div class="g3-h">' + esc(L.title) + '</div><table>' + L.rows.map((r, i) =>
      '<tr class="g3-pick" data-table="' + esc(r.table) + '" data-feature="' + r.feature + '"><td><span class="g3-sw g3-dot" style="background:rgb(' + r.color.slice(0, 3).join(',') + ')"></span></td><td>' +
      esc(r.key) + '</td><td>' + esc(r.text) + '</td></tr>').join('') + '</table>').join('');
    box.querySelectorAll('tr.g3-pick').forEach((el) => el.addEventListener('click', () => select(el.dataset.table, Number(el.dataset.feature))));
  }
  function redraw() { instance.setProps({ layers: layers() }); }

  document.title = S.title;
  $('g3-title').textContent = S.title;
  $('g3-subtitle').textContent = S.subtitle || '';
  $('g3-info-close').addEventListener('click', () => select(null));
  $('g3-compass').addEventListener('click', () => { viewState = { ...viewState, bearing: 0, transitionDuration: 400 }; instance.setProps({ initialViewState: viewState }); });
  $('g3-fit').addEventListener('click', () => { viewState = { ...fitView(), transitionDuration: 600 }; instance.setProps({ initialViewState: viewState }); });
  legend(); levels(); search(); exaggeration(); lists();
  const instance = new deck.Deck({
    parent: $('g3-map'), initialViewState: viewState, controller: { inertia: true },
    views: new deck.MapView({ repeat: false, farZMultiplier: 10 }),
    layers: layers(), getTooltip: tooltip, pickingRadius: 4,
    parameters: { clearColor: (S.background || [236, 239, 242]).map((v) => v / 255).concat([1]) },
    onViewStateChange: ({ viewState: vs }) => { viewState = vs; updateOverlays(vs); return vs; },
    onAfterRender: () => { const vp = instance.getViewports()[0]; if (vp) updateOverlays(vp); if (!window.GEO3D.ready) { window.GEO3D.ready = true; document.body.dataset.ready = '1'; } },
    onError: (e) => { window.GEO3D.error = String(e); console.error(e); }
  });
  updateOverlays(viewState);
  // clicks: picked from the DOM event (a press that moved is a drag, not a click)
  let down = null;
  const mapEl = $('g3-map');
  mapEl.addEventListener('pointerdown', (e) => { down = [e.clientX, e.clientY]; }, true);
  mapEl.addEventListener('click', (e) => {
    if (down && Math.hypot(e.clientX - down[0], e.clientY - down[1]) > 4) return;
    const r = mapEl.getBoundingClientRect();
    const info = instance.pickObject({ x: e.clientX - r.left, y: e.clientY - r.top, radius: 4 });
    const f = info && featureOf(info);
    if (f && f.feature !== undefined && f.feature !== null) select(f.table, f.feature); else select(null);
  });
  window.GEO3D.deck = instance;
  window.GEO3D.select = select;
  window.GEO3D.setLevel = setLevel;
  window.GEO3D.flyTo = flyTo;
  window.GEO3D.setHidden = (groups, hidden) => { // one group or a list, one redraw
    [].concat(groups).forEach((g) => { state.hidden[g] = !!hidden; const el = document.querySelector('input[data-group="' + g + '"]'); if (el) el.checked = !hidden; });
    redraw();
  };
  window.GEO3D.setExaggeration = (k) => { state.exaggeration = k; $('g3-exag').value = String(k); redraw(); };
  window.GEO3D.project = (x, y, z) => { // local metres -> screen pixels (for tests)
    const vp = instance.getViewports()[0]; const [lng, lat] = toLngLat(x, y);
    return vp.project([lng, lat, (z || 0) * state.exaggeration]);
  };
})();
