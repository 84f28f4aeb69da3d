// memmon's pages (memmon report, the live page of docs/http.md): numbers
// for people, as memmon's command line writes them, and the alert colours.
window.memmonFormat = {
  // 1536 -> "1.5 KiB"; null -> an en dash.
  bytes: function (v) {
    if (v == null) return '\u2013';
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var u = 0;
    var a = Math.abs(v);
    while (a >= 1024 && u < units.length - 1) { a /= 1024; ++u; }
    return (v < 0 ? '-' : '') + (u === 0 ? a.toFixed(0) : a.toFixed(1)) + ' ' + units[u];
  },
  count: function (v) {
    return v == null ? '\u2013' : String(Math.round(v));
  },
  // Each alert type's colour on the charts.
  alertColors: {
    memory_growth: '#c62828', heap_fragmentation: '#ef6c00', allocator_pressure: '#6a1b9a',
    thread_leak: '#1565c0', fd_leak: '#00838f', object_threshold: '#4e342e',
    oom_risk: '#000000'
  }
};
