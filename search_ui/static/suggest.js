// Suggestions under the search box as the reader types (the ARIA 1.2 combobox pattern).
// Without this script the form is a plain search form; with it, the box asks
// /api/suggest for completions, and arrows, Enter and Escape work through them.
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.getAttribute("data-suggest-url");
  var input = document.getElementById("q");
  if (!url || !input || !input.form || !window.fetch) {
    return;
  }
  var form = input.form;
  var DELAY_MS = 120; // a pause in typing before asking, so that each keystroke doesn't
  var list = document.createElement("ul");
  var status = document.createElement("div");
  var items = [];
  var active = -1;
  var timer = null;
  var asked = 0; // only the answer to the latest question is shown
  var shownFor = null;

  list.id = "q-suggestions";
  list.className = "suggestions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "Gợi ý tìm kiếm");
  list.hidden = true;
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");
  var row = input.parentNode;
  row.parentNode.insertBefore(list, row.nextSibling);
  row.parentNode.insertBefore(status, list.nextSibling);
  form.classList.add("has-suggestions");

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function choose(index) {
    active = index;
    items.forEach(function (li, i) {
      li.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    if (index < 0) {
      input.removeAttribute("aria-activedescendant");
    } else {
      input.setAttribute("aria-activedescendant", items[index].id);
      items[index].scrollIntoView({ block: "nearest" });
    }
  }

  function submit(text) {
    input.value = text;
    close();
    form.submit();
  }

  function show(typed, suggestions) {
    list.textContent = "";
    items = suggestions.map(function (text, i) {
      var li = document.createElement("li");
      li.id = "q-suggestion-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.textContent = text;
      // mousedown, not click: the box would lose its focus (and close the list) first
      li.addEventListener("mousedown", function (event) {
        event.preventDefault();
        submit(text);
      });
      list.appendChild(li);
      return li;
    });
    shownFor = typed;
    active = -1;
    input.removeAttribute("aria-activedescendant");
    if (items.length) {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      status.textContent = items.length + " gợi ý; dùng phím mũi tên lên, xuống để chọn.";
    } else {
      close();
      status.textContent = "";
    }
  }

  function ask() {
    var typed = input.value;
    if (!typed.trim()) {
      show(typed, []);
      return;
    }
    var mine = ++asked;
    fetch(url + "?q=" + encodeURIComponent(typed), { headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : { suggestions: [] };
      })
      .then(function (data) {
        if (mine === asked && document.activeElement === input) {
          show(typed, data.suggestions || []);
        }
      })
      .catch(function () {
        if (mine === asked) {
          close();
        }
      });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, DELAY_MS);
  });

  input.addEventListener("keydown", function (event) {
    var open = !list.hidden && items.length > 0;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!open) {
        if (items.length && shownFor === input.value) {
          list.hidden = false;
          input.setAttribute("aria-expanded", "true");
        } else {
          ask();
        }
        event.preventDefault();
        return;
      }
      var step = event.key === "ArrowDown" ? 1 : -1;
      var next = active + step;
      if (next >= items.length) {
        next = -1;
      } else if (next < -1) {
        next = items.length - 1;
      }
      choose(next);
      event.preventDefault();
    } else if (event.key === "Enter") {
      if (open && active >= 0) {
        event.preventDefault();
        submit(items[active].textContent);
      }
    } else if (event.key === "Escape") {
      if (open) {
        event.preventDefault();
        close();
      }
    }
  });

  input.addEventListener("blur", close);
})();
