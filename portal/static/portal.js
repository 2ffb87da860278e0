// All the pages' script lives here (the Content-Security-Policy forbids inline script and
// style): confirmation before destructive steps, widths of bars, print and back buttons,
// the register form's direction switch, and progress polling for background jobs.
document.addEventListener('submit', function (ev) {
  var btn = ev.submitter;
  var msg = (btn && btn.dataset.confirm) || ev.target.dataset.confirm;
  if (msg && !window.confirm(msg)) { ev.preventDefault(); }
});
function pollJob(el) {
  var url = el.dataset.jobUrl;
  fetch(url, {headers: {'Accept': 'application/json'}}).then(function (r) { return r.json(); }).then(function (job) {
    var bar = el.querySelector('.progress-bar');
    bar.style.width = job.progress + '%'; bar.textContent = job.progress + '%';
    el.querySelector('[data-job-state]').textContent = el.dataset['state' + job.state] || job.state;
    if (job.state === 'done' || job.state === 'failed') {
      if (el.dataset.reload) { window.location.reload(); }
      return;
    }
    setTimeout(function () { pollJob(el); }, 1000);
  }).catch(function () { setTimeout(function () { pollJob(el); }, 3000); });
}
document.querySelectorAll('[data-job-url]').forEach(pollJob);
// A search form beside a list of checkboxes in another form (forms cannot nest): the boxes ticked
// so far travel with the search, so looking up another name keeps the choices made.
document.addEventListener('submit', function (ev) {
  var form = ev.target, name = form.dataset.carryChecked;
  if (!name) { return; }
  form.querySelectorAll('[data-carried]').forEach(function (el) { el.remove(); });
  document.querySelectorAll('input[type=checkbox][name="' + name + '"]:checked').forEach(function (box) {
    var input = document.createElement('input');
    input.type = 'hidden'; input.name = form.dataset.carryAs || name; input.value = box.value;
    input.setAttribute('data-carried', '');
    form.appendChild(input);
  });
});

// Bars (statistics, job progress) carry their width as data: style attributes are not allowed.
document.querySelectorAll('[data-width]').forEach(function (el) {
  el.style.width = Math.max(0, Math.min(100, parseFloat(el.dataset.width) || 0)) + '%';
});
document.addEventListener('click', function (ev) {
  var el = ev.target.closest('[data-print], [data-back]');
  if (!el) { return; }
  if (el.hasAttribute('data-print')) { ev.preventDefault(); window.print(); }
  else if (window.history.length > 1) { ev.preventDefault(); window.history.back(); }
});
// The register form: "not yet transferred" applies to incoming members only.
(function () {
  var dir = document.getElementById('direction'), box = document.getElementById('not-transferred-box');
  var check = document.getElementById('not_transferred');
  if (!dir || !box) { return; }
  function sync() {
    var incoming = dir.value === '流入';
    box.style.display = incoming ? '' : 'none';
    if (!incoming && check) { check.checked = false; }
  }
  dir.addEventListener('change', sync); sync();
})();
// "Copy link" (self-service links sent by WeChat or SMS by hand): the field stays selectable without script.
document.addEventListener('click', function (ev) {
  var btn = ev.target.closest('[data-copy]');
  if (!btn) { return; }
  var field = document.querySelector(btn.dataset.copy);
  if (!field) { return; }
  field.select();
  var done = function () { btn.textContent = btn.dataset.copied || btn.textContent; };
  if (navigator.clipboard) { navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand('copy'); done(); }); }
  else { document.execCommand('copy'); done(); }
});

// The API's docs page (/api/v1/docs): Swagger UI over the app's own OpenAPI document.
document.querySelectorAll('[data-swagger-ui]').forEach(function (el) {
  if (window.SwaggerUIBundle) { window.SwaggerUIBundle({url: el.dataset.swaggerUi, domNode: el}); }
});
