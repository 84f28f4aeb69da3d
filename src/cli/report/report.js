// memmon report: draws the page's charts from the JSON in #memmon-data,
// with uPlot (memory and counts over time, alerts as vertical markers) and
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
  var alertColors = {
    memory_growth: '#c62828', heap_fragmentation: '#ef6c00', allocator_pressure: '#6a1b9a',
    thread_leak: '#1565c0', fd_leak: '#00838f', object_threshold: '#4e342e'
  };

  function formatBytes(v) {
    if (v == null) return '\u2013';
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var u = 0;
    var a = Math.abs(v);
    while (a >= 1024 && u < units.length - 1) { a /= 1024; ++u; }
    return (v < 0 ? '-' : '') + (u === 0 ? a.toFixed(0) : a.toFixed(1)) + ' ' + units[u];
  }

  function formatCount(v) {
    return v == null ? '\u2013' : String(Math.round(v));
  }

  // Vertical dashed lines and the alert's type at each alert's time_s.
  function alertMarkers(element) {
    function draw(u) {
      var ctx = u.ctx;
      var box = u.bbox;
      var drawn = 0;
      ctx.save();
      ctx.font = Math.round(11 * pixelRatio) + 'px sans-serif';
      ctx.lineWidth = pixelRatio;
      ctx.setLineDash([4 * pixelRatio, 3 * pixelRatio]);
      data.alerts.forEach(function (alert, i) {
        var x = Math.round(u.valToPos(alert.time_s, 'x', true));
        if (!(x >= box.left && x <= box.left + box.width)) return;
        var color = alertColors[alert.type] || '#333';
        ctx.strokeStyle = color;
        ctx.fillStyle = color;
        ctx.beginPath();
        ctx.moveTo(x, box.top);
        ctx.lineTo(x, box.top + box.height);
        ctx.stroke();
        ctx.fillText(alert.type, x + 3 * pixelRatio, box.top + (12 + 13 * (i % 4)) * pixelRatio);
        ++drawn;
      });
      ctx.restore();
      element.setAttribute('data-alert-markers', String(drawn));
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
  }
  if (data.flame) attempt('flame graph', function () { flameGraph(data.flame); });
  document.documentElement.setAttribute('data-ready', '1');
})();
