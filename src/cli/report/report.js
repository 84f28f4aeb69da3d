// memmon report: draws the page's charts from the JSON in #memmon-data,
// with uPlot (memory and counts over time, alert episodes as shaded spans
// between firing and resolved markers) and
// d3-flame-graph (the in-use heap). The tables are plain HTML already.
//
// Each drawn chart gets data-rendered="1" on its element, and the page
// data-ready="1" on <html> at the end; a failure is reported through
// console.error, which errors.js counts. The headless-browser test reads
// these attributes.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('memmon-data').textContent);
  var pixelRatio = window.devicePixelRatio || 1;
  var alertColors = window.memmonFormat.alertColors;

  var formatBytes = window.memmonFormat.bytes;
  var formatCount = window.memmonFormat.count;

  // Alert episodes on a chart: each episode a shaded span in its type's
  // colour, from its firing record to its resolved record (or, still open,
  // to the last sample); a dashed line labelled with the type at each
  // firing record, a dotted one labelled "TYPE resolved" at each resolved
  // record. The element gets data-alert-markers (firing lines drawn),
  // data-resolved-markers and data-episodes.
  function episodes() {
    var spans = [];
    var end = data.samples.time_s[data.samples.time_s.length - 1];
    data.alerts.forEach(function (alert, i) {
      if (alert.state === 'resolved') {
        if (alert.episode_start_s != null) {
          spans.push({ type: alert.type, from: alert.episode_start_s, to: alert.time_s, open: false });
        }
        return;
      }
      var closed = data.alerts.slice(i + 1).some(function (later) {
        return later.type === alert.type && later.state === 'resolved' &&
               later.episode_start_s === alert.time_s;
      });
      if (!closed) spans.push({ type: alert.type, from: alert.time_s, to: end, open: true });
    });
    return spans;
  }

  function alertMarkers(element) {
    var spans = episodes();
    function draw(u) {
      var ctx = u.ctx;
      var box = u.bbox;
      var drawn = 0, resolved = 0, shaded = 0;
      ctx.save();
      spans.forEach(function (span) {
        var from = Math.max(u.valToPos(span.from, 'x', true), box.left);
        var to = Math.min(u.valToPos(span.to, 'x', true), box.left + box.width);
        if (!(to > from)) return;
        ctx.globalAlpha = span.open ? 0.12 : 0.08;
        ctx.fillStyle = alertColors[span.type] || '#333';
        ctx.fillRect(from, box.top, to - from, box.height);
        ++shaded;
      });
      ctx.globalAlpha = 1;
      ctx.font = Math.round(11 * pixelRatio) + 'px sans-serif';
      ctx.lineWidth = pixelRatio;
      data.alerts.forEach(function (alert, i) {
        var x = Math.round(u.valToPos(alert.time_s, 'x', true));
        if (!(x >= box.left && x <= box.left + box.width)) return;
        var isResolved = alert.state === 'resolved';
        var color = alertColors[alert.type] || '#333';
        ctx.strokeStyle = color;
        ctx.fillStyle = color;
        ctx.setLineDash(isResolved ? [1 * pixelRatio, 3 * pixelRatio] : [4 * pixelRatio, 3 * pixelRatio]);
        ctx.beginPath();
        ctx.moveTo(x, box.top);
        ctx.lineTo(x, box.top + box.height);
        ctx.stroke();
        ctx.fillText(isResolved ? alert.type + ' resolved' : alert.type,
                     x + 3 * pixelRatio, box.top + (12 + 13 * (i % 4)) * pixelRatio);
        if (isResolved) ++resolved; else ++drawn;
      });
      ctx.restore();
      element.setAttribute('data-alert-markers', String(drawn));
      element.setAttribute('data-resolved-markers', String(resolved));
      element.setAttribute('data-episodes', String(shaded));
    }
    return { hooks: { draw: [draw] } };
  }

  // A uPlot line chart of the named sample columns that samples.csv has.
  function lineChart(id, title, columns, format, height) {
    var element = document.getElementById(id);
    var samples = data.samples;
    var present = columns.filter(function (c) { return samples[c.key]; });
    if (!present.length) {
      element.className = 'note';
      element.textContent = title + ': not in samples.csv.';
      return null;
    }
    var unixTime = samples.time_s.length > 0 && samples.time_s[0] > 1e8;
    var series = [{ label: unixTime ? 'time' : 'time_s' }].concat(present.map(function (c) {
      return {
        label: c.label, stroke: c.color, width: 1.5,
        value: function (u, v) { return format(v); }
      };
    }));
    var options = {
      title: title,
      width: Math.max(element.clientWidth, 400),
      height: height,
      scales: { x: { time: unixTime } },
      series: series,
      axes: [{}, { size: 80, values: function (u, splits) { return splits.map(format); } }],
      plugins: [alertMarkers(element)]
    };
    var columnsData = [samples.time_s].concat(present.map(function (c) { return samples[c.key]; }));
    var chart = new uPlot(options, columnsData, element);
    window.addEventListener('resize', function () {
      chart.setSize({ width: Math.max(element.clientWidth, 400), height: height });
    });
    if (element.querySelector('canvas')) element.setAttribute('data-rendered', '1');
    return chart;
  }

  // The resident memory by part, stacked (bottom first): each series is
  // drawn at the running total of the parts up to it and filled down to 0,
  // the top one first, so each band shows one part; the legend shows the
  // part itself. A sample the cost budget skipped is a gap.
  function residentChart() {
    var element = document.getElementById('rss-chart');
    if (!element) return;
    var samples = data.samples;
    var n = samples.time_s.length;
    function column(key) { return samples[key] || new Array(n).fill(null); }
    var heap = column('rss_heap_bytes');
    var inuse = column('rss_heap_inuse_bytes');
    var free = column('rss_allocator_free_bytes');
    function split(i) { return heap[i] !== null && inuse[i] !== null && free[i] !== null; }
    var parts = [
      { label: 'heap in use', color: '#d62728',
        at: function (i) { return split(i) ? inuse[i] : 0; } },
      { label: 'allocator free-held', color: '#2ca02c',
        at: function (i) { return split(i) ? free[i] : 0; } },
      { label: 'heap (not split)', color: '#ff9896',
        at: function (i) { return split(i) ? 0 : heap[i]; } },
      { label: 'thread stacks', color: '#9467bd', key: 'rss_stacks_bytes' },
      { label: 'code and libraries', color: '#8c564b', key: 'rss_code_bytes' },
      { label: 'file mappings', color: '#17becf', key: 'rss_file_bytes' },
      { label: 'other anonymous', color: '#bcbd22', key: 'rss_anon_other_bytes' },
      { label: 'unexplained', color: '#7f7f7f', key: 'rss_unexplained_bytes' }
    ];
    var values = parts.map(function (p) {
      var c = p.key ? column(p.key) : null;
      var out = [];
      for (var i = 0; i < n; i++) {
        out.push(heap[i] === null ? null : (c ? (c[i] === null ? 0 : c[i]) : p.at(i)));
      }
      return out;
    });
    var stacked = [];
    var running = new Array(n).fill(0);
    values.forEach(function (v) {
      running = running.map(function (r, i) { return v[i] === null ? null : r + v[i]; });
      stacked.push(running.slice());
    });
    // The top of the stack against RSS (the parts add up to it by
    // construction; a difference is a bug the page makes visible).
    var rss = column('rss_bytes');
    var worst = 0;
    var top = stacked[stacked.length - 1];
    for (var i = 0; i < n; i++) {
      if (top[i] !== null && rss[i]) worst = Math.max(worst, Math.abs(top[i] - rss[i]) / rss[i]);
    }
    var order = parts.map(function (p, k) { return k; }).reverse();
    var unixTime = n > 0 && samples.time_s[0] > 1e8;
    var series = [{ label: unixTime ? 'time' : 'time_s' }].concat(order.map(function (k) {
      return {
        label: parts[k].label, stroke: parts[k].color, fill: parts[k].color + 'cc', width: 1,
        points: { show: false },
        value: function (u, v, s, i) { var v2 = i === null || i === undefined ? null : values[k][i]; return v2 === null ? '--' : formatBytes(v2); }
      };
    }));
    var options = {
      title: 'Resident memory by part',
      width: Math.max(element.clientWidth, 400),
      height: 320,
      scales: { x: { time: unixTime } },
      series: series,
      axes: [{}, { size: 80, values: function (u, splits) { return splits.map(formatBytes); } }],
      plugins: [alertMarkers(element)]
    };
    var chart = new uPlot(options, [samples.time_s].concat(order.map(function (k) { return stacked[k]; })), element);
    window.addEventListener('resize', function () {
      chart.setSize({ width: Math.max(element.clientWidth, 400), height: 320 });
    });
    element.setAttribute('data-parts', String(parts.length));
    element.setAttribute('data-rss-mismatch', worst.toFixed(4));
    if (element.querySelector('canvas')) element.setAttribute('data-rendered', '1');
  }

  function totalValue(node) {
    var sum = node.value;
    (node.children || []).forEach(function (c) { sum += totalValue(c); });
    return sum;
  }

  function flameGraph(tree) {
    var element = document.getElementById('flame-graph');
    var total = totalValue(tree);
    if (!tree.children || total <= 0) {
      element.className = 'note';
      element.textContent = 'Nothing in use in this profile.';
      return;
    }
    var chart = flamegraph.default()
      .width(Math.max(element.clientWidth, 400))
      .cellHeight(18)
      .minFrameSize(1)
      .selfValue(true)  // the tree's values are self bytes; the chart adds them up
      .transitionDuration(300)
      .setColorMapper(flamegraph.colorMapper.allocationColorMapper)
      .setDetailsElement(document.getElementById('flame-details'))
      .setLabelHandler(function (d) {
        return d.data.name + ': ' + formatBytes(d.value) + ' (' +
               (100 * d.value / total).toFixed(1) + ' %), ' + formatBytes(d.data.value) +
               ' allocated here';
      });
    d3.select(element).datum(tree).call(chart);
    document.getElementById('flame-reset').addEventListener('click', function () {
      chart.resetZoom();
    });
    var frames = element.querySelectorAll('svg g.frame').length;
    element.setAttribute('data-frames', String(frames));
    if (frames > 0) element.setAttribute('data-rendered', '1');
  }

  function attempt(what, draw) {
    try {
      draw();
    } catch (e) {
      console.error('memmon report: cannot draw the ' + what + ': ' + (e && e.stack || e));
    }
  }

  if (data.samples && data.samples.time_s.length) {
    attempt('memory chart', function () {
      lineChart('memory-chart', 'Memory', [
        { key: 'rss_bytes', label: 'RSS', color: '#1f77b4' },
        { key: 'heap_inuse_bytes', label: 'heap in use', color: '#d62728' },
        { key: 'heap_free_bytes', label: 'heap free but held', color: '#2ca02c' }
      ], formatBytes, 320);
    });
    attempt('threads and descriptors chart', function () {
      lineChart('counts-chart', 'Threads and open descriptors', [
        { key: 'threads', label: 'threads', color: '#9467bd' },
        { key: 'fds', label: 'open descriptors', color: '#8c564b' }
      ], formatCount, 180);
    });
    attempt('resident memory chart', residentChart);
  }
  if (data.flame) attempt('flame graph', function () { flameGraph(data.flame); });
  document.documentElement.setAttribute('data-ready', '1');
})();
