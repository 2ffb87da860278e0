// Confirmation before destructive steps, and progress polling for background jobs.
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
