// The division's form: drawn from GET /app/api/division, saved with POST /app/api/save.
// Works without Telegram's script: the signed init data comes from the URL fragment
// (tgWebAppData) and goes back in the X-Telegram-Init-Data header of every call.
"use strict";
(function () {
  var hash = new URLSearchParams(location.hash.slice(1));
  var tg = window.Telegram && window.Telegram.WebApp;
  var initData = (tg && tg.initData) || hash.get("tgWebAppData") || "";
  var division = new URLSearchParams(location.search).get("division");
  var D = null; // the division as the API last sent it
  var T = {}; // texts in the person's language
  var base = {}; // entity id -> what was shown (serialised), to find the changed ones
  var ownSeq = 0;
  var $ = function (id) { return document.getElementById(id); };

  function theme() {
    var params = (tg && tg.themeParams) || null;
    if (!params && hash.get("tgWebAppThemeParams")) {
      try { params = JSON.parse(hash.get("tgWebAppThemeParams")); } catch (e) { params = null; }
    }
    if (!params) return;
    var map = { bg_color: "bg", text_color: "text", hint_color: "hint", button_color: "button",
      button_text_color: "button-text", link_color: "link", secondary_bg_color: "secondary-bg" };
    Object.keys(map).forEach(function (k) {
      if (params[k]) document.documentElement.style.setProperty("--tg-" + map[k], params[k]);
    });
  }

  function el(tag, attrs, kids) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === "text") node.textContent = v;
      else if (k === "on") Object.keys(v).forEach(function (e) { node.addEventListener(e, v[e]); });
      else node.setAttribute(k, v === true ? "" : v);
    });
    (kids || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }
  function fmt(text, params) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return k in params ? params[k] : m; });
  }
  function fid(e, row, field) { return "f-" + e + "-" + row + "-" + field; }
  function errEl(e, row, field) { return el("p", { class: "err", id: "err-" + e + "-" + row + "-" + field }); }
  function vh(text) { return el("span", { class: "vh", text: text }); }

  function input(e, row, field, value, label, cls, extra) {
    var attrs = { id: fid(e, row, field), name: field, type: "text", value: value || "", class: cls || null,
      "aria-describedby": "err-" + e + "-" + row + "-" + field, "data-field": field, autocomplete: "off" };
    Object.keys(extra || {}).forEach(function (k) { attrs[k] = extra[k]; });
    return el("input", attrs);
  }

  // --- drawing ------------------------------------------------------------------------
  function methodName(level, id) {
    for (var i = 0; i < level.methods.length; i++) if (level.methods[i].id === id) return level.methods[i].name;
    return String(id);
  }

  function countRow(ent, level, key, methodId, own, values) {
    var where = ent.name + ", " + fmt(T.level, { number: level.number }).toLowerCase() + ", ";
    var row = el("div", { class: "row", "data-row": key, "data-level": level.id, "data-method": methodId || "" });
    var countLabelId = fid(ent.id, key, "count") + "-l";
    if (own) {
      row.appendChild(el("div", { class: "field own" }, [
        el("label", { for: fid(ent.id, key, "method_text") }, [vh(where), T.own_method]),
        input(ent.id, key, "method_text", values.method_text)]));
      row.appendChild(el("label", { for: fid(ent.id, key, "count"), id: countLabelId, class: "vh",
        text: where + T.own_method + ", " + T.count }));
    } else {
      row.appendChild(el("label", { class: "m", for: fid(ent.id, key, "count"), id: countLabelId },
        [vh(where), methodName(level, methodId), vh(", " + T.count)]));
    }
    row.appendChild(input(ent.id, key, "count", values.count, null, "count", { inputmode: "numeric" }));
    row.appendChild(errEl(ent.id, key, "count"));
    if (own) row.appendChild(errEl(ent.id, key, "method_text"));
    row.appendChild(errEl(ent.id, key, "method"));
    var note = el("details", values.note ? { open: true } : {}, [
      el("summary", {}, [T.add_note, vh(": " + where + (own ? T.own_method : methodName(level, methodId)))]),
      el("label", { for: fid(ent.id, key, "note"), class: "vh",
        text: where + (own ? T.own_method : methodName(level, methodId)) + ", " + T.note }),
      input(ent.id, key, "note", values.note)]);
    row.appendChild(note);
    row.appendChild(errEl(ent.id, key, "note"));
    return row;
  }

  function levelBox(ent, level, answers) {
    var box = el("fieldset", { class: "level", "data-level": level.id }, [
      el("legend", {}, [vh(ent.name + ", "), fmt(T.level, { number: level.number }) + " – " + level.name])]);
    var mine = answers.filter(function (a) { return a.level_id === level.id; });
    var none = mine.some(function (a) { return a.none; });
    level.methods.forEach(function (m) {
      var given = mine.filter(function (a) { return a.method_id === m.id; })[0] || {};
      box.appendChild(countRow(ent, level, "m" + m.id, m.id, false, given));
    });
    var owns = mine.filter(function (a) { return !a.none && !a.method_id; });
    if (!owns.length) owns = [{}];
    owns.forEach(function (a) { box.appendChild(countRow(ent, level, "o" + (++ownSeq), null, true, a)); });
    var add = el("button", { type: "button", class: "link", text: T.add_own,
      "aria-label": ent.name + ", " + fmt(T.level, { number: level.number }).toLowerCase() + ": " + T.add_own });
    add.addEventListener("click", function () {
      var row = countRow(ent, level, "o" + (++ownSeq), null, true, {});
      box.insertBefore(row, add);
      row.querySelector("input").focus();
    });
    box.appendChild(add);
    var key = "n" + level.id;
    box.appendChild(el("div", { class: "check" }, [
      el("input", { type: "checkbox", id: fid(ent.id, key, "none"), "data-none": level.id, checked: none,
        "aria-describedby": "err-" + ent.id + "-" + key + "-none" }),
      el("label", { for: fid(ent.id, key, "none") }, [vh(ent.name + ", " + fmt(T.level, { number: level.number }).toLowerCase() + ": "), T.no_methods])]));
    box.appendChild(errEl(ent.id, key, "none"));
    return box;
  }

  var SAT_FIELDS = ["other_name", "scale", "frequency", "frequency_text", "nps", "promoters", "passives",
    "detractors", "respondents", "latest_result", "period", "note"];
  function kindOf(typeId) {
    var t = D.measurement_types.filter(function (x) { return String(x.id) === String(typeId); })[0];
    return t || null;
  }
  function visibleFor(t, field, values) {
    if (!t || t.kind === "none") return false;
    if (field === "other_name") return t.code === "OTHER";
    if (field === "frequency_text") return values.frequency === "other";
    if (["nps", "promoters", "passives", "detractors"].indexOf(field) >= 0) return t.kind === "nps";
    if (field === "latest_result") return t.kind !== "nps";
    return true;
  }

  function measurement(ent, box, values) {
    var key = "s" + (++ownSeq);
    var n = box.querySelectorAll("fieldset.meas").length + 1;
    var fs = el("fieldset", { class: "meas", "data-row": key }, [
      el("legend", {}, [vh(ent.name + ", "), fmt(T.measurement, { number: n })])]);
    var where = ent.name + ", " + T.satisfaction.toLowerCase() + " " + n + ", ";
    var type = el("select", { id: fid(ent.id, key, "measurement_type_id"), "data-field": "measurement_type_id",
      "aria-describedby": "err-" + ent.id + "-" + key + "-measurement_type_id" },
      [el("option", { value: "", text: T.choose })].concat(D.measurement_types.map(function (t) {
        return el("option", { value: t.id, text: t.name, selected: String(values.measurement_type_id) === String(t.id) });
      })));
    fs.appendChild(el("div", { class: "field" }, [
      el("label", { for: type.id }, [vh(where), T.type]), type, errEl(ent.id, key, "measurement_type_id")]));
    var fields = el("div", { class: "fields" });
    SAT_FIELDS.forEach(function (f) {
      var control;
      if (f === "frequency") {
        control = el("select", { id: fid(ent.id, key, f), "data-field": f, "aria-describedby": "err-" + ent.id + "-" + key + "-" + f },
          [el("option", { value: "", text: T.choose })].concat(D.frequencies.map(function (q) {
            return el("option", { value: q.code, text: q.name, selected: values.frequency === q.code });
          })));
      } else {
        var numeric = ["nps", "promoters", "passives", "detractors", "respondents"].indexOf(f) >= 0;
        control = input(ent.id, key, f, values[f], null, null, numeric ? { inputmode: f === "nps" ? "text" : "numeric" } : null);
      }
      fields.appendChild(el("div", { class: "field", "data-wrap": f }, [
        el("label", { for: control.id }, [vh(where), T[f]]), control, errEl(ent.id, key, f)]));
    });
    fs.appendChild(fields);
    var remove = el("button", { type: "button", class: "link", text: T.remove, "aria-label": where + T.remove });
    remove.addEventListener("click", function () { fs.remove(); changed(); });
    fs.appendChild(remove);
    function show() {
      var t = kindOf(type.value);
      var freq = fs.querySelector('[data-field="frequency"]').value;
      SAT_FIELDS.forEach(function (f) {
        fs.querySelector('[data-wrap="' + f + '"]').hidden = !visibleFor(t, f, { frequency: freq });
      });
    }
    fs.addEventListener("change", show);
    show();
    return fs;
  }

  function satisfactionBox(ent, answers) {
    var box = el("fieldset", { class: "sat" }, [el("legend", {}, [vh(ent.name + ", "), T.satisfaction])]);
    var add = el("button", { type: "button", class: "link", text: T.add_measurement, "aria-label": ent.name + ": " + T.add_measurement });
    box.appendChild(add);
    (answers.length ? answers : [{}]).forEach(function (a) { box.insertBefore(measurement(ent, box, a), add); });
    add.addEventListener("click", function () {
      var m = measurement(ent, box, {});
      box.insertBefore(m, add);
      m.querySelector("select").focus();
    });
    return box;
  }

  function entitySection(ent) {
    var prev = D.editable && ent.previous && !ent.participation.length && !ent.satisfaction.length;
    var p = prev ? ent.previous.participation : ent.participation;
    var s = prev ? ent.previous.satisfaction : ent.satisfaction;
    var sec = el("section", { class: "entity" + (prev ? " prev" : ""), id: "e-" + ent.id, "aria-labelledby": "h-" + ent.id,
      "data-entity": ent.id, "data-version": ent.version });
    sec.appendChild(el("h2", { id: "h-" + ent.id }, [ent.name,
      el("span", { class: "badge " + (ent.complete ? "done" : "todo"), text: ent.complete ? T.complete : T.incomplete })]));
    if (ent.missing) sec.appendChild(el("p", { class: "hint", text: T.missing_title + ": " + ent.missing }));
    if (prev) {
      sec.appendChild(el("p", { class: "notice", text: fmt(T.previous, { year: D.previous_year }) }));
      sec.appendChild(el("div", { class: "check" }, [
        el("input", { type: "checkbox", id: "confirm-" + ent.id, "data-confirm": "1", "aria-describedby": "err-" + ent.id + "-confirm-x" }),
        el("label", { for: "confirm-" + ent.id }, [vh(ent.name + ": "), T.confirm_previous])]));
      sec.appendChild(errEl(ent.id, "confirm", "x"));
    }
    var levels = el("div", { class: "levels" });
    D.levels.forEach(function (level) { levels.appendChild(levelBox(ent, level, p)); });
    sec.appendChild(levels);
    sec.appendChild(satisfactionBox(ent, s));
    if (D.editable) {
      var out = el("p", { class: "saved-msg", id: "msg-" + ent.id, role: "status" });
      var btn = el("button", { type: "button", class: "primary", text: fmt(T.save_entity, { entity: ent.name }) });
      btn.addEventListener("click", function () { save([ent.id]); });
      sec.appendChild(el("div", { class: "actions" }, [btn, out]));
    }
    return sec;
  }

  function summary() {
    var box = $("summary");
    box.textContent = "";
    $("subtitle").textContent = D.division.name + " · " + fmt(T.year, { year: D.year }) + " · " + fmt(T.state, { state: D.state_label });
    if (D.locked_text) box.appendChild(el("p", { class: "notice", text: D.locked_text }));
    if (D.deadline) box.appendChild(el("p", { class: "hint", text: D.deadline }));
    var list = el("div", { class: "notice" }, [el("strong", { text: D.missing.length ? T.missing_title : T.nothing_missing })]);
    if (D.missing.length) list.appendChild(el("ul", {}, D.missing.map(function (m) { return el("li", { text: m.replace(/^•\s*/, "") }); })));
    box.appendChild(list);
  }

  function draw() {
    document.documentElement.lang = D.language;
    document.title = T.title + " – " + D.division.name;
    $("title").textContent = T.title;
    $("legend").textContent = D.division.name;
    summary();
    var holder = $("entities");
    holder.textContent = "";
    D.entities.forEach(function (ent) { holder.appendChild(entitySection(ent)); });
    $("all").disabled = !D.editable;
    $("bar").hidden = !D.editable;
    $("save-all").textContent = T.save_all;
    base = {};
    D.entities.forEach(function (ent) { base[ent.id] = JSON.stringify(collect(ent.id)); });
  }

  // --- reading the form back ------------------------------------------------------------
  function val(scope, row, field) {
    var node = scope.querySelector('[data-row="' + row + '"] [data-field="' + field + '"]');
    return node ? node.value.trim() : "";
  }

  function collect(id) {
    var sec = $("e-" + id);
    var out = { id: id, version: Number(sec.getAttribute("data-version")), participation: [], satisfaction: [] };
    sec.querySelectorAll(".level .row").forEach(function (row) {
      var key = row.getAttribute("data-row");
      var method = row.getAttribute("data-method");
      var r = { row: key, level_id: Number(row.getAttribute("data-level")), method_id: method ? Number(method) : null,
        method_text: val(sec, key, "method_text") || null, count: val(sec, key, "count"), note: val(sec, key, "note") || null };
      if (r.count || r.note || (r.method_text && !method)) out.participation.push(r);
    });
    sec.querySelectorAll("[data-none]").forEach(function (box) {
      if (box.checked) out.participation.push({ row: "n" + box.getAttribute("data-none"), level_id: Number(box.getAttribute("data-none")), none: true });
    });
    sec.querySelectorAll("fieldset.meas").forEach(function (fs) {
      var key = fs.getAttribute("data-row");
      var r = { row: key, measurement_type_id: val(sec, key, "measurement_type_id") || null };
      var filled = !!r.measurement_type_id;
      SAT_FIELDS.forEach(function (f) {
        var wrap = fs.querySelector('[data-wrap="' + f + '"]');
        var v = val(sec, key, f);
        if (v && !wrap.hidden) { r[f] = v; filled = true; }
      });
      if (filled) out.satisfaction.push(r);
    });
    return out;
  }

  function confirmed(id) {
    var box = $("confirm-" + id);
    return !box || box.checked;
  }

  function changedIds() {
    return D.entities.map(function (e) { return e.id; }).filter(function (id) {
      return JSON.stringify(collect(id)) !== base[id] || ($("confirm-" + id) && $("confirm-" + id).checked);
    });
  }

  function changed() {
    var n = D && D.editable ? changedIds().length : 0;
    var status = $("status");
    status.className = "";
    status.textContent = n ? T.unsaved + ": " + n : "";
  }

  // --- talking to the server -------------------------------------------------------------
  function call(method, path, body) {
    var headers = { "X-Telegram-Init-Data": initData };
    if (body) headers["Content-Type"] = "application/json";
    return fetch(path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined })
      .then(function (r) { return r.json().catch(function () { return {}; }).then(function (j) { return { status: r.status, body: j }; }); });
  }

  function clearErrors() {
    document.querySelectorAll(".err").forEach(function (p) { p.textContent = ""; });
    document.querySelectorAll('[aria-invalid="true"]').forEach(function (n) { n.removeAttribute("aria-invalid"); });
  }

  function showError(e, row, field, message) {
    var p = $("err-" + e + "-" + row + "-" + field);
    var target = $(fid(e, row, field));
    if (!p) { // a problem about the row as a whole: next to its first field
      var holder = document.querySelector('#e-' + e + ' [data-row="' + row + '"]');
      p = holder && holder.querySelector(".err");
      target = holder && holder.querySelector("input, select");
    }
    if (!p) p = $("msg-" + e);
    if (p) p.textContent = (p.textContent ? p.textContent + " " : "") + message;
    if (target) target.setAttribute("aria-invalid", "true");
    return target;
  }

  function tell(text, bad) {
    var status = $("status");
    status.className = bad ? "bad" : "";
    status.textContent = text;
  }

  function save(ids) {
    clearErrors();
    var unconfirmed = null;
    var todo = ids.filter(function (id) {
      var differs = JSON.stringify(collect(id)) !== base[id];
      if ($("confirm-" + id) && !confirmed(id)) {
        if (differs || ids.length === 1) unconfirmed = unconfirmed || showError(id, "confirm", "x", T.confirm_needed) || $("confirm-" + id);
        return false;
      }
      return differs || $("confirm-" + id);
    });
    if (unconfirmed) { tell(T.errors, true); $("confirm-" + ids.filter(function (id) { return $("confirm-" + id) && !confirmed(id); })[0]).focus(); return; }
    if (!todo.length) { tell(T.no_changes); return; }
    tell(T.saving);
    var buttons = document.querySelectorAll("button.primary");
    buttons.forEach(function (b) { b.disabled = true; });
    call("POST", "/app/api/save", { division: D.division.code, entities: todo.map(collect) }).then(function (r) {
      buttons.forEach(function (b) { b.disabled = false; });
      if (r.status === 200) {
        // Only the saved entities come back; the others stay as the person left them.
        var fresh = r.body;
        var byId = {};
        fresh.entities.forEach(function (e) { byId[e.id] = e; });
        fresh.entities = D.entities.map(function (e) { return byId[e.id] || e; });
        ["levels", "measurement_types", "frequencies"].forEach(function (k) { fresh[k] = fresh[k] || D[k]; });
        var old = {};
        D.entities.forEach(function (e) { old[e.id] = $("e-" + e.id); });
        D = fresh; T = fresh.texts;
        summary();
        D.entities.forEach(function (ent) {
          if (byId[ent.id]) {
            var sec = entitySection(ent);
            old[ent.id].replaceWith(sec);
            base[ent.id] = JSON.stringify(collect(ent.id));
            var msg = $("msg-" + ent.id);
            if (msg) msg.textContent = T.saved;
          }
        });
        tell(T.saved);
        changed();
        if (!changedIds().length) tell(T.saved);
        return;
      }
      if (r.status === 422 && r.body.problems) {
        var first = null;
        r.body.problems.forEach(function (p) { var t = showError(p.entity, p.row, p.field, p.message); first = first || t; });
        tell(r.body.error, true);
        if (first) first.focus();
        return;
      }
      tell(r.status === 401 ? T.no_access : (r.body.error || T.failed), true);
      if (r.status === 409 || r.status === 423) offerReload();
    }).catch(function () {
      buttons.forEach(function (b) { b.disabled = false; });
      tell(T.failed, true);
    });
  }

  function offerReload() {
    if ($("reload")) return;
    var b = el("button", { type: "button", id: "reload", text: T.reload });
    b.addEventListener("click", function () { b.remove(); load(); });
    $("bar").insertBefore(b, $("save-all"));
  }

  function load() {
    var q = division ? "?division=" + encodeURIComponent(division) : "";
    return call("GET", "/app/api/division" + q).then(function (r) {
      if (r.status !== 200) {
        $("summary").textContent = "";
        $("summary").appendChild(el("p", { class: "notice error", role: "alert",
          text: r.status === 401 ? "Avaa lomake botin keskustelusta Telegramissa (Lomake-painike)." : (r.body.error || String(r.status)) }));
        return;
      }
      D = r.body; T = D.texts;
      draw();
      document.body.setAttribute("data-ready", "1");
      if (window.performance && performance.mark) performance.mark("miniapp-ready");
    });
  }

  theme();
  if (tg && tg.ready) tg.ready();
  document.addEventListener("DOMContentLoaded", function () {
    $("form").addEventListener("input", changed);
    $("form").addEventListener("change", changed);
    $("form").addEventListener("submit", function (ev) { ev.preventDefault(); });
    $("save-all").addEventListener("click", function () { save(changedIds()); });
    load();
  });
})();
