/* geo3d's offline vector-tile viewer: MapLibre GL JS + the PMTiles protocol, no network.
   The page holds the style (window.GEO3D_TILES.style) and the archive's name; the archive is
   read from the server beside the page (one Range request: a server that ignores Range sends
   the whole file, which is then read from memory), or from a file the user drops or picks
   (pmtiles.FileSource), which is how it works from file://. */
(function () {
  "use strict";
  var cfg = window.GEO3D_TILES;
  var protocol = new pmtiles.Protocol();
  maplibregl.addProtocol("pmtiles", protocol.tile);
  var state = { map: null, archive: null };
  window.geo3dViewer = state;
  document.body.dataset.state = "loading";

  function $(id) { return document.getElementById(id); }

  // a Source over an ArrayBuffer already in memory (the whole archive)
  function MemorySource(key, buffer) { this.key = key; this.buffer = buffer; }
  MemorySource.prototype.getKey = function () { return this.key; };
  MemorySource.prototype.getBytes = function (offset, length) {
    return Promise.resolve({ data: this.buffer.slice(offset, offset + length) });
  };

  function sourceFromUrl(url) {
    // first 16 KiB by Range: 206 -> a byte-serving server (FetchSource); 200 -> whole file
    return fetch(url, { headers: { Range: "bytes=0-16383" } }).then(function (resp) {
      if (resp.status === 206) { return new pmtiles.FetchSource(url); }
      if (!resp.ok) { throw new Error(url + ": HTTP " + resp.status); }
      return resp.arrayBuffer().then(function (buf) { return new MemorySource(url, buf); });
    });
  }

  function legend() {
    var box = $("legend");
    var html = "<h2>" + cfg.legend_title + "</h2>";
    cfg.legend.forEach(function (item) {
      var mark = item.kind === "area" ? '<span class="area"></span>'
        : '<span class="swatch" style="background:' + item.color + '"></span>';
      html += '<div class="row" data-layer="' + item.layer + '">' + mark + "<span>" + item.label + "</span></div>";
    });
    box.innerHTML = html;
  }

  function escapeHtml(v) {
    return String(v).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; });
  }

  function showInfo(feature) {
    var props = feature.properties || {};
    var label = cfg.labels[feature.sourceLayer] || feature.sourceLayer;
    var rows = Object.keys(props).sort(function (a, b) {
      var ia = cfg.field_order.indexOf(a), ib = cfg.field_order.indexOf(b);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || (a < b ? -1 : 1);
    }).map(function (k) {
      return '<tr><td class="k">' + escapeHtml(k) + "</td><td>" + escapeHtml(props[k]) + "</td></tr>";
    }).join("");
    $("info-body").innerHTML = "<h2>" + escapeHtml(label) + "</h2><table>" + rows + "</table>";
    $("info").style.display = "block";
    $("info").dataset.layer = feature.sourceLayer;
  }

  function start(source) {
    var archive = new pmtiles.PMTiles(source);
    protocol.add(archive);
    state.archive = archive;
    $("open").style.display = "none";
    return archive.getHeader().then(function (h) {
      var style = JSON.parse(JSON.stringify(cfg.style));
      style.sources[cfg.source].url = "pmtiles://" + source.getKey();
      if (state.map) { state.map.remove(); }
      var map = new maplibregl.Map({
        container: "map", style: style, attributionControl: false,
        bounds: [[h.minLon, h.minLat], [h.maxLon, h.maxLat]], fitBoundsOptions: { padding: 40 },
        maxZoom: 22, fadeDuration: 0, preserveDrawingBuffer: true
      });
      state.map = map;
      map.addControl(new maplibregl.NavigationControl({ visualizePitch: true }), "top-right");
      map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
      var clickable = cfg.clickable;
      map.on("click", function (e) {
        var p = e.point, r = 5;
        var hits = map.queryRenderedFeatures([[p.x - r, p.y - r], [p.x + r, p.y + r]], { layers: clickable });
        if (hits.length) { showInfo(hits[0]); } else { $("info").style.display = "none"; }
      });
      map.on("mousemove", function (e) {
        var p = e.point;
        var hits = map.queryRenderedFeatures([[p.x - 4, p.y - 4], [p.x + 4, p.y + 4]], { layers: clickable });
        map.getCanvas().style.cursor = hits.length ? "pointer" : "";
      });
      map.once("idle", function () { document.body.dataset.state = "ready"; });
      map.on("error", function (e) { console.error("map error: " + (e.error && e.error.message)); });
    });
  }

  function openFile(file) {
    document.body.dataset.state = "loading";
    start(new pmtiles.FileSource(file)).catch(fail);
  }

  function fail(err) {
    document.body.dataset.state = "waiting";
    $("open-msg").textContent = cfg.open_text + (err ? " (" + err.message + ")" : "");
    $("open").style.display = "block";
  }

  legend();
  $("head-title").textContent = cfg.title;
  $("subtitle").textContent = cfg.subtitle;
  $("info-close").onclick = function () { $("info").style.display = "none"; };
  $("file").onchange = function (e) { if (e.target.files.length) { openFile(e.target.files[0]); } };
  ["dragenter", "dragover"].forEach(function (t) {
    document.addEventListener(t, function (e) { e.preventDefault(); $("open").classList.add("drag"); });
  });
  document.addEventListener("drop", function (e) {
    e.preventDefault();
    $("open").classList.remove("drag");
    if (e.dataTransfer.files.length) { openFile(e.dataTransfer.files[0]); }
  });
  if (location.protocol === "http:" || location.protocol === "https:") {
    var url = new URL(cfg.archive, location.href).href;
    sourceFromUrl(url).then(start).catch(fail);
  } else {
    fail(null);  // file:// pages cannot read files beside them: the user opens the archive
  }
})();
