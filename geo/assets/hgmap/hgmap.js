/*
 * hgmap.js - the planners' map client of this project (same licence as the project).
 *
 * Everything that is display happens here, in the browser, without a server round-trip:
 * layer on/off and the "hide schematic / goal" filter (grouped layer control), the legend of the
 * visible layers (collapsible, scrollable), place search with a marked hit, labels at city zoom,
 * identify (every area under a click is reachable from its popup), tile-error notices, and the
 * view (centre/zoom) kept in sessionStorage so a re-created map comes back where the user was.
 * When the host page's URL is the share link (cfg.share_url), the visible layers and the view are
 * written into it as they change, still without a server round-trip.
 *
 * Draw order uses Leaflet panes: boundaries < areas < coverage < selected unit < lines < points
 * < labels. Within the area panes, larger features are drawn below smaller ones. Coverage, the
 * selected unit's outline, labels and the search mark are non-interactive, so they never take a
 * click meant for a feature.
 */
(function (global) {
  'use strict';
  var L = global.L;
  var PANES = {
    'hg-boundary': 402, 'hg-areas': 410, 'hg-coverage': 415, 'hg-highlight': 420,
    'hg-lines': 430, 'hg-points': 440, 'hg-search': 445, 'hg-labels': 450
  };
  var KIND_PANE = { boundary: 'hg-boundary', zones: 'hg-areas', lines: 'hg-lines', points: 'hg-points' };

  function esc(s) {
    return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  // --- marker shapes (SVG paths drawn by an L.CircleMarker subclass) -----------------------
  function poly(pts) {
    return 'M' + pts.map(function (p) { return p[0].toFixed(1) + ',' + p[1].toFixed(1); }).join('L') + 'z';
  }
  function shapePath(shape, x, y, r) {
    var i, a, pts = [];
    switch (shape) {
      case 'square':
        return poly([[x - r, y - r], [x + r, y - r], [x + r, y + r], [x - r, y + r]]);
      case 'diamond':
        a = r * 1.35;
        return poly([[x, y - a], [x + a, y], [x, y + a], [x - a, y]]);
      case 'triangle':
        return poly([[x, y - r * 1.4], [x + r * 1.3, y + r * 0.9], [x - r * 1.3, y + r * 0.9]]);
      case 'star':
        for (i = 0; i < 10; i++) {
          a = -Math.PI / 2 + i * Math.PI / 5;
          var rr = i % 2 ? r * 0.7 : r * 1.6;
          pts.push([x + rr * Math.cos(a), y + rr * Math.sin(a)]);
        }
        return poly(pts);
      case 'cross':
        var w = r * 0.5, l = r * 1.4;
        return poly([[x - w, y - l], [x + w, y - l], [x + w, y - w], [x + l, y - w], [x + l, y + w],
          [x + w, y + w], [x + w, y + l], [x - w, y + l], [x - w, y + w], [x - l, y + w],
          [x - l, y - w], [x - w, y - w]]);
      case 'hexagon':
        for (i = 0; i < 6; i++) {
          a = Math.PI / 6 + i * Math.PI / 3;
          pts.push([x + r * 1.2 * Math.cos(a), y + r * 1.2 * Math.sin(a)]);
        }
        return poly(pts);
      default:
        return null;
    }
  }
  var ShapeMarker = L.CircleMarker.extend({
    options: { shape: 'circle' },
    _updatePath: function () {
      var d = shapePath(String(this.options.shape).replace(/_open$/, ''), this._point.x,
        this._point.y, this._radius);
      if (d === null || !this._renderer._setPath) {
        return L.CircleMarker.prototype._updatePath.call(this);
      }
      this._renderer._setPath(this, d);
    }
  });

  function pointStyle(layerStyle, kind) {
    var s = {
      color: layerStyle.color || '#333', fillColor: layerStyle.fillColor || layerStyle.color || '#333',
      radius: layerStyle.radius || 5, shape: layerStyle.marker || 'circle'
    };
    var over = (layerStyle.kinds || {})[kind];
    if (over) {
      ['color', 'fillColor', 'radius'].forEach(function (k) { if (over[k] != null) { s[k] = over[k]; } });
      if (over.marker) { s.shape = over.marker; }
    }
    if (kind === 'goal' && !/_open$/.test(s.shape)) { s.shape += '_open'; }
    var open = /_open$/.test(s.shape);
    return {
      pane: 'hg-points', shape: s.shape, radius: s.radius, color: s.color, weight: open ? 2.2 : 1.5,
      opacity: 1, fillColor: open ? '#ffffff' : s.fillColor, fillOpacity: open ? 0.95 : 0.9
    };
  }

  function pathStyle(meta, feature) {
    var st = meta.style || {}, kind = meta.kind;
    var s = {
      color: st.color || '#333', weight: st.weight || 2, opacity: st.opacity == null ? 0.9 : st.opacity,
      fillColor: st.fillColor || st.color || '#333',
      fillOpacity: st.fillOpacity == null ? 0.15 : st.fillOpacity,
      fill: kind === 'zones' || (kind === 'boundary' && meta.clickable)
    };
    if (st.dashArray) { s.dashArray = st.dashArray; } else if (feature.properties._schematic && kind === 'zones') {
      s.dashArray = '6 4';
    }
    return s;
  }

  // --- point in polygon for identify ------------------------------------------------------
  function inRing(pt, ring) {
    var x = pt.lng, y = pt.lat, inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if (((yi > y) !== (yj > y)) && (x < (xj - xi) * (y - yi) / (yj - yi) + xi)) { inside = !inside; }
    }
    return inside;
  }
  function inGeometry(pt, g) {
    var polys = g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
    return polys.some(function (rings) {
      return inRing(pt, rings[0]) && !rings.slice(1).some(function (h) { return inRing(pt, h); });
    });
  }

  function HgMap(map, cfg) {
    this.map = map;
    this.cfg = cfg;
    this.tx = cfg.tx;
    this.layers = {};   // id -> {meta, group: L.FeatureGroup, features: [leaflet layers]}
    this.filterOn = false;
    this.storeKey = 'hgmap:' + (cfg.store_key || 'map');
    // Jumps of more than one zoom level (the page going to a unit, a search hit, a table row) are
    // not animated: Chromium rasterised the zone SVGs at the animation's scale (up to 16x for
    // 7 -> 11) and left everything below a straight line undrawn until the next drag.
    map.options.zoomAnimationThreshold = Math.min(map.options.zoomAnimationThreshold, 1);
    global.hgmap = this;
    this._panes();
    this._build();
    this._labels();
    this._controls();
    this._restoreOrFit();
    this._tileErrors();
    var self = this;
    map.on('moveend', function () { self._saveView(); self._writeUrl(); });
    if (global.ResizeObserver) {  // the host (e.g. Streamlit's iframe) may resize the map div
      new global.ResizeObserver(function () { map.invalidateSize(); }).observe(map.getContainer());
    }
    map.on('zoomend', function () { self._updateLabels(); });
    this._updateLabels();
    this._shareLink();
  }

  HgMap.prototype._panes = function () {
    var map = this.map;
    Object.keys(PANES).forEach(function (name) {
      var p = map.getPane(name) || map.createPane(name);
      p.style.zIndex = PANES[name];
      if (name === 'hg-labels' || name === 'hg-search' || name === 'hg-coverage' || name === 'hg-highlight') {
        p.style.pointerEvents = 'none';
      }
    });
  };

  HgMap.prototype._build = function () {
    var self = this, cfg = this.cfg;
    cfg.layers.forEach(function (meta) {
      var group = L.featureGroup(), feats = [];
      var geo = L.geoJSON(meta.data, {
        pane: KIND_PANE[meta.kind] || 'hg-areas',
        style: function (f) {
          return meta.kind === 'points' ? pointStyle(meta.style || {}, f.properties.kind) : pathStyle(meta, f);
        },
        pointToLayer: function (f, latlng) {
          return new ShapeMarker(latlng, pointStyle(meta.style || {}, f.properties.kind));
        },
        onEachFeature: function (f, lyr) {
          lyr.hgMeta = meta;
          feats.push(lyr);
          if (f.properties._tip) { lyr.bindTooltip(f.properties._tip, { sticky: true }); }
          if (!f.properties._popup) { return; }
          if (meta.kind === 'zones' || meta.kind === 'boundary') {
            lyr.on('click', function (e) { self.identify(e.latlng, lyr); L.DomEvent.stop(e); });
          } else {
            lyr.bindPopup(f.properties._popup, { maxWidth: 340 });
          }
        }
      });
      if ((meta.kind === 'boundary' && !meta.clickable) || meta.kind === 'lines' && !meta.data.features.some(function (f) { return f.properties._popup; })) {
        geo.eachLayer(function (l) { l.options.interactive = !!l.getTooltip(); });
      }
      geo.addTo(group);
      self.layers[meta.id] = { meta: meta, group: group, geo: geo, features: feats };
    });
    var saved = this._load('visible');
    var visible = saved && saved.token === cfg.visible_token ? saved.ids : cfg.visible;
    visible.forEach(function (id) { if (self.layers[id]) { self.map.addLayer(self.layers[id].group); } });
    this._order();
  };

  // Larger areas below smaller ones, in every area pane (re-applied after each toggle).
  HgMap.prototype._order = function () {
    var areas = [];
    var self = this;
    Object.keys(this.layers).forEach(function (id) {
      var e = self.layers[id];
      if ((e.meta.kind === 'zones' || e.meta.kind === 'boundary') && self.map.hasLayer(e.group)) {
        e.features.forEach(function (l) { if (l.bringToFront && l._map) { areas.push(l); } });
      }
    });
    areas.sort(function (a, b) { return (b.feature.properties._area || 0) - (a.feature.properties._area || 0); });
    areas.forEach(function (l) { l.bringToFront(); });
  };

  HgMap.prototype.identify = function (latlng, clicked) {
    var self = this, hits = [];
    Object.keys(this.layers).forEach(function (id) {
      var e = self.layers[id];
      if (!self.map.hasLayer(e.group) || (e.meta.kind !== 'zones' && e.meta.kind !== 'boundary')) { return; }
      e.features.forEach(function (l) {
        if (l.feature.properties._popup && l._map && l.getBounds().contains(latlng) &&
            inGeometry(latlng, l.feature.geometry)) { hits.push(l); }
      });
    });
    if (hits.indexOf(clicked) < 0) { hits.push(clicked); }
    hits.sort(function (a, b) { return (a.feature.properties._area || 0) - (b.feature.properties._area || 0); });
    hits.splice(hits.indexOf(clicked), 1);
    hits.unshift(clicked);
    this._showIdentify(latlng, hits, 0);
  };

  HgMap.prototype._showIdentify = function (latlng, hits, k) {
    var self = this, f = hits[k];
    var html = f.feature.properties._popup;
    if (hits.length > 1) {
      html += '<div class="hg-also"><b>' + esc(this.tx.also) + '</b>' + hits.map(function (h, i) {
        if (i === k) { return ''; }
        return '<a href="#" data-hg="' + i + '">' + h.feature.properties.name + ' · ' +
          esc(h.hgMeta.name) + '</a>';
      }).join('') + '</div>';
    }
    var popup = L.popup({ maxWidth: 340 }).setLatLng(latlng).setContent(html).openOn(this.map);
    var el = popup.getElement();
    if (el) {
      L.DomEvent.on(el, 'click', function (ev) {
        var t = ev.target.closest ? ev.target.closest('a[data-hg]') : null;
        if (t) { L.DomEvent.preventDefault(ev); self._showIdentify(latlng, hits, +t.getAttribute('data-hg')); }
      });
    }
  };

  // --- labels of main places at city zoom --------------------------------------------------
  HgMap.prototype._labels = function () {
    var self = this;
    this.labelLayers = [];
    Object.keys(this.layers).forEach(function (id) {
      var e = self.layers[id], group = L.layerGroup();
      e.features.forEach(function (l) {
        var p = l.feature.properties;
        if (!p._label) { return; }
        var ll = p._lp ? L.latLng(p._lp[1], p._lp[0]) : l.getLatLng ? l.getLatLng() : l.getBounds().getCenter();
        var cls = 'hg-label hg-label-' + e.meta.kind;
        L.marker(ll, {
          pane: 'hg-labels', interactive: false, keyboard: false,
          icon: L.divIcon({ className: cls, html: '<span>' + p.name + '</span>', iconSize: null })
        }).addTo(group);
      });
      group.hgMinZoom = e.meta.kind === 'boundary' ? self.cfg.label_zoom : self.cfg.label_zoom + 1;
      group.hgOwner = e;
      self.labelLayers.push(group);
    });
  };

  HgMap.prototype._updateLabels = function () {
    var z = this.map.getZoom(), map = this.map, placed = [];
    this.labelLayers.forEach(function (g) {
      var show = z >= g.hgMinZoom && map.hasLayer(g.hgOwner.group);
      if (show && !map.hasLayer(g)) { map.addLayer(g); }
      if (!show && map.hasLayer(g)) { map.removeLayer(g); }
    });
    // Hide a label that would overlap one placed before it (counties first, then places).
    var spans = map.getPane('hg-labels').querySelectorAll('.hg-label span');
    Array.prototype.forEach.call(spans, function (el) {
      el.style.visibility = '';
      var r = el.getBoundingClientRect();
      var clash = placed.some(function (q) {
        return r.left < q.right && r.right > q.left && r.top < q.bottom && r.bottom > q.top;
      });
      if (clash) { el.style.visibility = 'hidden'; } else { placed.push(r); }
    });
  };

  // --- toggles and filter (client-side) ----------------------------------------------------
  HgMap.prototype.setVisible = function (id, on) {
    var e = this.layers[id];
    if (!e) { return; }
    if (on) { this.map.addLayer(e.group); } else { this.map.removeLayer(e.group); }
    if (on && (e.meta.kind === 'zones' || e.meta.kind === 'boundary')) { this._order(); }
    if (this.filterOn) { this._applyFilter(); }
    this._updateLabels();
    this._renderLegend();
    this._save('visible', { token: this.cfg.visible_token, ids: this.visibleIds() });
    this._writeUrl();
  };

  HgMap.prototype.visibleIds = function () {
    var self = this;
    return this.cfg.layers.map(function (m) { return m.id; }).filter(function (id) {
      return self.map.hasLayer(self.layers[id].group);
    });
  };

  HgMap.prototype.setFilter = function (on) {
    this.filterOn = on;
    this._applyFilter();
  };

  HgMap.prototype._applyFilter = function () {
    var self = this;
    Object.keys(this.layers).forEach(function (id) {
      var e = self.layers[id];
      if (e.meta.kind !== 'points') { return; }
      e.features.forEach(function (l) {
        var p = l.feature.properties, hide = self.filterOn && (p._schematic || p.kind === 'goal');
        if (hide && e.geo.hasLayer(l)) { e.geo.removeLayer(l); }
        if (!hide && !e.geo.hasLayer(l)) { e.geo.addLayer(l); }
      });
    });
  };

  // --- controls --------------------------------------------------------------------------
  HgMap.prototype._controls = function () {
    var self = this, map = this.map, cfg = this.cfg, box = map.getContainer();
    var setH = function () { box.style.setProperty('--hg-h', box.clientHeight + 'px'); };
    setH();
    map.on('resize', setH);
    if (L.Control.FullScreen) {
      new L.Control.FullScreen({ position: 'topleft', title: this.tx.fullscreen, titleCancel: this.tx.fullscreen_off,
        forcePseudoFullscreen: !(global.document.fullscreenEnabled) }).addTo(map);
    }
    if (L.control.measure) {
      L.control.measure({ position: 'topleft', primaryLengthUnit: 'kilometers', secondaryLengthUnit: 'meters',
        primaryAreaUnit: 'hectares', secondaryAreaUnit: 'sqmeters', activeColor: '#c0392b', completedColor: '#1f618d',
        captureZIndex: 10000 }).addTo(map);
    }
    L.control.scale({ imperial: false }).addTo(map);  // metric only (planners work in km)
    if (L.Control.MousePosition) {
      new L.Control.MousePosition({ position: 'bottomleft', separator: ', ', lngFirst: true, numDigits: 5,
        prefix: cfg.datum, emptyString: cfg.datum }).addTo(map);
    }
    if (L.Control.MiniMap && cfg.minimap_layer && this.layers[cfg.minimap_layer]) {
      var mini = L.geoJSON(this.layers[cfg.minimap_layer].meta.data, {
        style: { color: '#566573', weight: 1, fill: false }, interactive: false
      });
      new L.Control.MiniMap(mini, { position: 'bottomleft', toggleDisplay: true, zoomLevelOffset: -3,
        width: 130, height: 110,
        aimingRectOptions: { color: '#ff7800', weight: 2, fillOpacity: 0.05, interactive: false },
        shadowRectOptions: { color: '#000000', weight: 1, opacity: 0, fillOpacity: 0, interactive: false },
        strings: { hideText: this.tx.minimap_hide, showText: this.tx.minimap_show } }).addTo(map);
    }
    this._searchControl();
    this._layerControl();
    this._legendControl();
  };

  function collapsible(container, title, body, open) {
    var head = L.DomUtil.create('button', 'hg-head', container);
    head.type = 'button';
    head.setAttribute('aria-expanded', open ? 'true' : 'false');
    head.innerHTML = esc(title) + ' <span class="hg-caret">' + (open ? '▾' : '▸') + '</span>';
    container.appendChild(body);
    body.style.display = open ? '' : 'none';
    L.DomEvent.on(head, 'click', function (ev) {
      L.DomEvent.stop(ev);
      var show = body.style.display === 'none';
      body.style.display = show ? '' : 'none';
      head.setAttribute('aria-expanded', show ? 'true' : 'false');
      head.querySelector('.hg-caret').textContent = show ? '▾' : '▸';
    });
    return head;
  }

  HgMap.prototype._layerControl = function () {
    var self = this, cfg = this.cfg;
    var ctl = L.control({ position: 'topright' });
    ctl.onAdd = function () {
      var div = L.DomUtil.create('div', 'hg-layers hg-box leaflet-control');
      var body = L.DomUtil.create('div', 'hg-body');
      var lastGroup = null;
      cfg.layers.forEach(function (m) {
        if (m.group_name !== lastGroup) {
          L.DomUtil.create('div', 'hg-group', body).textContent = m.group_name;
          lastGroup = m.group_name;
        }
        var row = L.DomUtil.create('label', 'hg-row', body);
        var cb = L.DomUtil.create('input', '', row);
        cb.type = 'checkbox';
        cb.setAttribute('data-layer', m.id);
        cb.checked = self.map.hasLayer(self.layers[m.id].group);
        row.insertAdjacentHTML('beforeend', ' ' + m.swatch + '<span>' + esc(m.name) + ' (' + m.data.features.length + ')</span>');
        L.DomEvent.on(cb, 'change', function () {
          var t0 = global.performance.now();
          self.setVisible(m.id, cb.checked);
          global.hgLastToggleMs = global.performance.now() - t0;
        });
      });
      var frow = L.DomUtil.create('label', 'hg-row hg-filter', body);
      var fcb = L.DomUtil.create('input', '', frow);
      fcb.type = 'checkbox';
      fcb.setAttribute('data-filter', 'schematic-goal');
      frow.insertAdjacentHTML('beforeend', ' <span>' + esc(self.tx.filter) + '</span>');
      L.DomEvent.on(fcb, 'change', function () { self.setFilter(fcb.checked); });
      collapsible(div, self.tx.layers, body, cfg.layers_open);
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    ctl.addTo(this.map);
    this.layerControl = ctl;
  };

  HgMap.prototype._legendControl = function () {
    var self = this;
    var ctl = L.control({ position: 'bottomright' });
    ctl.onAdd = function () {
      var div = L.DomUtil.create('div', 'hg-legend hg-box leaflet-control');
      self.legendBody = L.DomUtil.create('div', 'hg-body');
      collapsible(div, self.tx.legend, self.legendBody, true);
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    ctl.addTo(this.map);
    this._renderLegend();
    this.map.on('layeradd layerremove', function (e) {
      if (e.layer && e.layer.options && (e.layer.options.pane === 'hg-coverage' || e.layer.options.pane === 'hg-highlight')) {
        self._renderLegend();
      }
    });
  };

  HgMap.prototype._paneUsed = function (pane) {
    var used = false;
    this.map.eachLayer(function (l) { if (l.options && l.options.pane === pane && l.feature) { used = true; } });
    return used;
  };

  HgMap.prototype._renderLegend = function () {
    if (!this.legendBody) { return; }
    var self = this, rows = [];
    this.cfg.layers.forEach(function (m) {
      if (self.map.hasLayer(self.layers[m.id].group)) { rows.push(m.legend); }
    });
    if (this._paneUsed('hg-coverage')) { rows.push(this.cfg.legend_extra.coverage); }
    if (this._paneUsed('hg-highlight')) { rows.push(this.cfg.legend_extra.highlight); }
    this.legendBody.innerHTML = rows.join('') || '<i>' + esc(this.tx.nothing) + '</i>';
  };

  // --- search (client-side) ---------------------------------------------------------------
  HgMap.prototype._searchControl = function () {
    var self = this;
    var ctl = L.control({ position: 'topleft' });
    ctl.onAdd = function () {
      var div = L.DomUtil.create('div', 'hg-search hg-box leaflet-control');
      var input = L.DomUtil.create('input', 'hg-search-input', div);
      input.type = 'search';
      input.placeholder = self.tx.search;
      var list = L.DomUtil.create('div', 'hg-search-list', div);
      L.DomEvent.on(input, 'input', function () { self._searchList(input, list); });
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      self.searchInput = input;
      self.searchList = list;
      return div;
    };
    ctl.addTo(this.map);
  };

  HgMap.prototype.search = function (q) {
    var out = [], self = this;
    q = String(q || '').trim().toLowerCase();
    if (!q) { return out; }
    this.cfg.layers.forEach(function (m) {
      self.layers[m.id].features.forEach(function (l) {
        var raw = l.feature.properties._q || '';
        if (raw.indexOf(q) >= 0) { out.push({ layer: l, exact: raw === q, name: l.feature.properties.name, meta: m }); }
      });
    });
    out.sort(function (a, b) { return (b.exact - a.exact) || (a.name.length - b.name.length); });
    return out.slice(0, 20);
  };

  HgMap.prototype._searchList = function (input, list) {
    var self = this, hits = this.search(input.value);
    list.innerHTML = '';
    if (input.value.trim() && !hits.length) { list.innerHTML = '<div class="hg-none">' + esc(this.tx.no_hit) + '</div>'; }
    hits.forEach(function (h) {
      var a = L.DomUtil.create('a', 'hg-hit', list);
      a.href = '#';
      a.innerHTML = h.name + ' <span class="hg-hit-layer">· ' + esc(h.meta.name) + '</span>';
      L.DomEvent.on(a, 'click', function (ev) { L.DomEvent.preventDefault(ev); self.select(h.layer); });
    });
  };

  // Go to a feature, mark it, show its popup and put its label in the search box.
  HgMap.prototype.select = function (l) {
    var map = this.map, meta = l.hgMeta;
    if (!map.hasLayer(this.layers[meta.id].group)) {
      this.setVisible(meta.id, true);
      var cb = map.getContainer().querySelector('input[data-layer="' + meta.id + '"]');
      if (cb) { cb.checked = true; }
    }
    if (this.mark) { map.removeLayer(this.mark); }
    if (l.getLatLng) {
      map.setView(l.getLatLng(), Math.max(map.getZoom(), 14));
      this.mark = L.circleMarker(l.getLatLng(), { pane: 'hg-search', radius: 16, color: '#ff00ff', weight: 3,
        fill: false, interactive: false, className: 'hg-mark' }).addTo(map);
    } else {
      map.fitBounds(l.getBounds(), { maxZoom: 13 });
      this.mark = L.geoJSON(l.feature, { pane: 'hg-search', interactive: false,
        style: { color: '#ff00ff', weight: 4, fill: false, className: 'hg-mark' } }).addTo(map);
    }
    if (this.searchInput) {
      var t = global.document.createElement('textarea');
      t.innerHTML = l.feature.properties.name || '';
      this.searchInput.value = t.value;
    }
    if (this.searchList) { this.searchList.innerHTML = ''; }
    if (l.getPopup && l.getPopup()) { l.openPopup(); } else if (l.getBounds) { this.identify(l.getBounds().getCenter(), l); }
    this.selected = l;
  };

  HgMap.prototype.selectById = function (layerId, featureId) {
    var e = this.layers[layerId], hit = null;
    if (!e) { return false; }
    e.features.forEach(function (l) { if (String(l.feature.properties.id) === String(featureId)) { hit = l; } });
    if (hit) { this.select(hit); }
    return !!hit;
  };

  // --- view ------------------------------------------------------------------------------
  HgMap.prototype._restoreOrFit = function () {
    var cfg = this.cfg, saved = this._load('view');
    if (saved && saved.token === cfg.view_token) {
      this.map.setView([saved.lat, saved.lng], saved.zoom, { animate: false });
    } else if (cfg.center && cfg.zoom != null) {
      this.map.setView(cfg.center, cfg.zoom, { animate: false });
    } else if (cfg.bounds) {
      this.map.fitBounds(cfg.bounds, { maxZoom: 13, animate: false });
    }
    if (cfg.search_hit) { this.selectById(cfg.search_hit[0], cfg.search_hit[1]); }
    this._saveView();
  };

  HgMap.prototype.view = function () {
    var c = this.map.getCenter(), b = this.map.getBounds();
    return { lat: c.lat, lng: c.lng, zoom: this.map.getZoom(),
      bounds: [[b.getSouth(), b.getWest()], [b.getNorth(), b.getEast()]] };
  };

  HgMap.prototype._saveView = function () {
    var v = this.view();
    v.token = this.cfg.view_token;
    global.hgView = v;
    this._save('view', v);
  };

  HgMap.prototype._save = function (what, value) {
    try { global.sessionStorage.setItem(this.storeKey + ':' + what, JSON.stringify(value)); } catch (err) { /* no storage */ }
  };
  HgMap.prototype._load = function (what) {
    try { return JSON.parse(global.sessionStorage.getItem(this.storeKey + ':' + what) || 'null'); } catch (err) { return null; }
  };

  // --- the share link: the host page's URL carries what the user sees ---------------------
  // Streamlit shows the map in a same-origin iframe. Its page keeps its own copy of the query
  // string and writes that copy back into the address bar after a rerun (history.pushState /
  // replaceState), so the map both writes its parameters (visible layers, centre, zoom) on each
  // toggle and move, and puts them back whenever the host rewrites its URL. No frame goes to the
  // server for any of it.
  var HOOK = "['pushState', 'replaceState'].forEach(function (name) {" +
    '  var h = window.history, orig = h[name];' +
    '  h[name] = function () {' +
    '    var out = orig.apply(h, arguments);' +
    '    try { if (window.hgShareSync) { window.hgShareSync(); } } catch (err) { /* map gone */ }' +
    '    return out;' +
    '  };' +
    '});' +
    "window.addEventListener('popstate', function () {" +
    '  try { if (window.hgShareSync) { window.hgShareSync(); } } catch (err) { /* map gone */ }' +
    '});';

  HgMap.prototype._shareLink = function () {
    var self = this, host;
    if (!this.cfg.share_url) { return; }
    try {
      host = global.parent;
      if (!host || host === global || typeof host.location.search !== 'string') { return; }
    } catch (err) { return; }  // a cross-origin host: its URL is not ours to write
    this.shareHost = host;
    host.hgShareSync = function () { self._writeUrl(); };  // the newest map wins
    if (!host.hgShareHooked) {
      try {
        new host.Function(HOOK)();  // made in the host's realm: the hook outlives this iframe
        host.hgShareHooked = true;
      } catch (err) { /* no hook: the URL is still written on each toggle and move */ }
    }
  };

  HgMap.prototype.shareParams = function () {
    var names = this.cfg.share_url, c = this.map.getCenter(), out = {};
    out[names.layers] = this.visibleIds().join(',');
    out[names.center] = c.lat.toFixed(5) + ',' + c.lng.toFixed(5);
    out[names.zoom] = String(this.map.getZoom());
    return out;
  };

  HgMap.prototype._writeUrl = function () {
    var host = this.shareHost;
    if (!host || this._writing) { return; }
    try {
      var url = new host.URL(host.location.href), params = this.shareParams(), changed = false;
      Object.keys(params).forEach(function (k) {
        if (url.searchParams.get(k) !== params[k]) { url.searchParams.set(k, params[k]); changed = true; }
      });
      if (changed) {
        this._writing = true;  // our own replaceState comes back through the hook
        host.history.replaceState(host.history.state, '', url.toString());
      }
    } catch (err) { /* the host went away: the link keeps its last state */ }
    this._writing = false;
  };

  // --- notices and tile errors -------------------------------------------------------------
  HgMap.prototype.notice = function (text) {
    var c = this.map.getContainer(), el = c.querySelector('.hg-notice');
    if (!el) { el = L.DomUtil.create('div', 'hg-notice', c); }
    if (el.textContent.indexOf(text) < 0) { el.textContent = (el.textContent ? el.textContent + ' ' : '') + text; }
    el.style.display = '';
  };

  HgMap.prototype._tileErrors = function () {
    var self = this;
    (this.cfg.notices || []).forEach(function (t) { self.notice(t); });
    this.map.eachLayer(function (l) {
      if (l instanceof L.TileLayer) {
        l.on('tileerror', function () { self.notice(self.tx.tile_error); });
      }
    });
  };

  global.HgMap = HgMap;
  global.HgMap.ShapeMarker = ShapeMarker;
  global.HgMap.shapePath = shapePath;
  global.HgMap.inGeometry = inGeometry;
}(window));
