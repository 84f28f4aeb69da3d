// memmon's live page: polls /debug/memmon/{stats,samples,alerts,top_sites}
// every data-refresh-ms and redraws -- memory and counts over time with
// uPlot (alert records as vertical markers), the alerts, the top live
// allocation sites and the tracked objects. A bearer token, when the
// server wants one, comes from the URL fragment (#token=...), which the
// browser never sends.
//
// After each successful update: data-updates="N" on <html>, data-ready="1"
// after the first, data-rendered="1" on each drawn chart,
// data-alert-markers on the memory chart. A failed update goes to
// console.error (errors.js counts it) and into the status line.
(function () {
  'use strict';
  var root = document.documentElement;
  var refreshMs = Number(document.body.getAttribute('data-refresh-ms')) || 2000;
  var token = (/(?:^|[#&])token=([^&]*)/.exec(window.location.hash) || [])[1];
  var headers = token ? { Authorization: 'Bearer ' + decodeURIComponent(token) } : {};
  var alertColors = window.memmonFormat.alertColors;
  var charts = {};
  var updates = 0;
  var alerts = [];

  var formatBytes = window.memmonFormat.bytes;
  var formatCount = window.memmonFormat.count;

  function get(path) {
    return fetch(path, { headers: headers, cache: 'no-store' }).then(function (r) {
      if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
      return r.json();
    });
  }

  function text(tag, content, className) {
    var e = document.createElement(tag);
    e.textContent = content;
    if (className) e.className = className;
    return e;
  }

  // Firing records as dashed lines, resolved ones dotted, in the type's
  // colour; the chart's element counts them in data-alert-markers.
  function markers(element) {
    function draw(u) {
      var ctx = u.ctx, box = u.bbox, ratio = window.devicePixelRatio || 1, drawn = 0;
      ctx.save();
      ctx.lineWidth = ratio;
      alerts.forEach(function (a) {
        var x = Math.round(u.valToPos(Date.parse(a.time) / 1000, 'x', true));
        if (!(x >= box.left && x <= box.left + box.width)) return;
        ctx.strokeStyle = alertColors[a.type] || '#333';
        ctx.setLineDash(a.state === 'resolved' ? [ratio, 3 * ratio] : [4 * ratio, 3 * ratio]);
        ctx.beginPath();
        ctx.moveTo(x, box.top);
        ctx.lineTo(x, box.top + box.height);
        ctx.stroke();
        ++drawn;
      });
      ctx.restore();
      element.setAttribute('data-alert-markers', String(drawn));
    }
    return { hooks: { draw: [draw] } };
  }

  // Draws or updates a uPlot chart of the sample fields in `columns` that
  // the samples know.
  function chart(id, columns, format, samples) {
    var element = document.getElementById(id);
    var present = columns.filter(function (c) {
      return samples.some(function (s) { return s[c.key] != null; });
    });
    if (!present.length) {
      element.className = 'chart note';
      element.textContent = 'not measured';
      return;
    }
    var data = [samples.map(function (s) { return s.time_unix_s; })].concat(
      present.map(function (c) { return samples.map(function (s) { return s[c.key]; }); }));
    var chart = charts[id];
    if (chart && chart.series.length === present.length + 1) {
      chart.setData(data);
    } else {
      if (chart) chart.destroy();
      element.textContent = '';
      chart = charts[id] = new uPlot({
        width: Math.max(element.clientWidth, 400),
        height: 260,
        series: [{ label: 'time' }].concat(present.map(function (c) {
          return { label: c.label, stroke: c.color, width: 1.5,
                   value: function (u, v) { return format(v); } };
        })),
        axes: [{}, { size: 80, values: function (u, splits) { return splits.map(format); } }],
        plugins: [markers(element)]
      }, data, element);
    }
    if (element.querySelector('canvas')) element.setAttribute('data-rendered', '1');
  }

  function table(id, head, rows) {
    var t = document.getElementById(id);
    t.textContent = '';
    if (!rows.length) {
      t.appendChild(text('caption', 'none', 'note'));
      return;
    }
    var tr = document.createElement('tr');
    head.forEach(function (h) { tr.appendChild(text('th', h)); });
    t.appendChild(tr);
    rows.forEach(function (row) {
      var r = document.createElement('tr');
      row.forEach(function (cell, i) { r.appendChild(text('td', cell, i > 0 ? 'num' : '')); });
      t.appendChild(r);
    });
  }

  function render(stats, samples, alertList, sites) {
    alerts = alertList;
    chart('memory-chart', [
      { key: 'rss_bytes', label: 'RSS', color: '#1565c0' },
      { key: 'heap_inuse_bytes', label: 'heap in use', color: '#c62828' },
      { key: 'heap_free_bytes', label: 'heap free', color: '#ef6c00' }
    ], formatBytes, samples);
    chart('counts-chart', [
      { key: 'threads', label: 'threads', color: '#2e7d32' },
      { key: 'open_fds', label: 'descriptors', color: '#6a1b9a' }
    ], formatCount, samples);
    var list = document.getElementById('alerts');
    list.textContent = '';
    if (!alertList.length) list.appendChild(text('li', 'none', 'note'));
    alertList.slice().reverse().forEach(function (a) {
      var li = document.createElement('li');
      if (a.state === 'resolved') li.className = 'resolved';
      li.appendChild(text('span', a.time + ' '));
      li.appendChild(text('span', a.type + (a.state === 'resolved' ? ' resolved' : ''), 'type'));
      li.appendChild(text('span', ': ' + a.message));
      list.appendChild(li);
    });
    table('top-sites', ['function', 'file', 'in use'], sites.map(function (s) {
      return [s['function'], s.file ? s.file + ':' + s.line : '', formatBytes(s.inuse_bytes)];
    }));
    var objects = stats.tracked_objects || {};
    table('objects', ['name', 'count', 'bytes', 'peak count'], Object.keys(objects).map(function (k) {
      var o = objects[k];
      return [k, formatCount(o.count), formatBytes(o.bytes), formatCount(o.peak_count)];
    }));
    var growth = stats.growth_since_baseline_pct;
    document.getElementById('status').textContent =
      stats.sample_count + ' samples, ' + stats.alert_count + ' alerts' +
      (growth == null ? '' : ', ' + growth.toFixed(1) + ' % over the baseline') +
      '; updated ' + new Date().toLocaleTimeString();
    ++updates;
    root.setAttribute('data-updates', String(updates));
    root.setAttribute('data-ready', '1');
  }

  function update() {
    Promise.all([get('/debug/memmon/stats'), get('/debug/memmon/samples'),
                 get('/debug/memmon/alerts'), get('/debug/memmon/top_sites?n=10')])
      .then(function (r) { render(r[0], r[1], r[2], r[3]); })
      .catch(function (e) {
        document.getElementById('status').textContent = 'update failed: ' + e.message;
        console.error('memmon live: ' + e.message);
      })
      .then(function () { window.setTimeout(update, refreshMs); });
  }
  update();
})();
