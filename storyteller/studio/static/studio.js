// storyteller studio: the storyboard page. Plain JavaScript, no framework, nothing fetched from elsewhere.
// Every change goes to the server, which validates it as a whole plan and keeps the history (undo/redo);
// the page only shows what the server answers. User text is only ever set as text, never as HTML.
"use strict";

const token = document.querySelector('meta[name="storyteller-token"]').content;
const choices = JSON.parse(document.getElementById("choices").textContent);
const $ = (id) => document.getElementById(id);

let plan = null;
let state = {};
let selected = 0;
let mediaVersion = Date.now(); // bumped when a render finishes: the browser fetches the new files

// --- talking to the server -------------------------------------------------------------------------

async function call(method, path, data) {
  const options = { method, headers: { "X-Storyteller-Token": token } };
  if (data instanceof FormData) {
    options.body = data;
  } else if (data !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(data);
  }
  const response = await fetch(path, options);
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    say(answer.error || `${response.status} ${response.statusText}`, true);
    return null;
  }
  if (answer.plan) show(answer.plan, answer.state);
  return answer;
}

function say(text, error = false) {
  $("message").textContent = text;
  $("message").classList.toggle("error", error);
}

function media(path) {
  return `/media/${path.split("/").map(encodeURIComponent).join("/")}?v=${mediaVersion}&token=${encodeURIComponent(token)}`;
}

// --- the timeline, as the film has it (PlanSchema's shot_starts) -----------------------------------

// Python's round(): halves to the even neighbour (Math.round takes them up), so the page counts the frames
// the render does
function pyRound(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function frames(shot) {
  return Math.max(1, pyRound(shot.duration * plan.fps));
}

function overlap(index) {
  const shot = plan.shots[index];
  if (index === 0 || shot.transition.kind === "cut") return 0;
  const wanted = pyRound(shot.transition.duration * plan.fps);
  return Math.min(wanted, Math.floor(Math.min(frames(plan.shots[index - 1]), frames(shot)) / 2));
}

function starts() {
  const result = [];
  let cursor = 0;
  plan.shots.forEach((shot, index) => {
    cursor -= overlap(index);
    result.push(cursor);
    cursor += frames(shot);
  });
  return result;
}

// --- drawing the page ------------------------------------------------------------------------------

function show(newPlan, newState) {
  plan = newPlan;
  if (newState) state = newState;
  selected = Math.min(selected, plan.shots.length - 1);
  $("title").textContent = plan.title;
  $("undo").disabled = !state.can_undo;
  $("redo").disabled = !state.can_redo;
  $("render").disabled = !!state.rendering;
  drawStoryboard();
  drawEditor();
  drawCharacters();
}

function drawStoryboard() {
  const board = $("storyboard");
  board.replaceChildren();
  const names = Object.fromEntries(plan.characters.map((c) => [c.id, c.name]));
  plan.shots.forEach((shot, index) => {
    const card = document.createElement("li");
    card.className = "card" + (index === selected ? " selected" : "");
    card.dataset.index = index;
    card.dataset.shot = shot.id;
    const image = document.createElement("img");
    image.src = media(`keyframes/${shot.id}.png`);
    image.alt = `keyframe of shot ${index + 1}`;
    image.onerror = () => {
      // a new shot has no keyframe until it is rendered
      image.removeAttribute("src");
      image.alt = "";
      card.classList.add("unrendered");
    };
    const meta = document.createElement("div");
    meta.className = "meta";
    const number = document.createElement("span");
    number.className = "number";
    number.textContent = `#${index + 1}`;
    const text = document.createElement("div");
    text.className = "text";
    text.textContent = shot.text;
    const facts = document.createElement("div");
    facts.className = "facts";
    const who = shot.characters.map((id) => names[id] || id).join(", ") || "no one";
    const transition = shot.transition.kind === "cut" ? "cut" : `${shot.transition.kind} ${shot.transition.duration}s`;
    facts.textContent = `${shot.duration.toFixed(1)}s · ${shot.camera} · ${transition} · ${who}`;
    meta.append(number, text, facts);
    card.append(image, meta);
    card.addEventListener("click", () => select(index, true));
    board.append(card);
  });
}

function select(index, seek) {
  selected = index;
  document.querySelectorAll(".card").forEach((card) => {
    card.classList.toggle("selected", Number(card.dataset.index) === index);
  });
  drawEditor();
  if (seek) {
    const player = $("player");
    player.currentTime = (starts()[index] + overlap(index)) / plan.fps + 0.001;
  }
}

function fillSelect(select, values, value) {
  select.replaceChildren(...values.map((v) => new Option(v, v)));
  select.value = value;
}

function drawEditor() {
  const shot = plan.shots[selected];
  const form = $("shot-editor");
  $("shot-number").textContent = `#${selected + 1}`;
  $("shot-id").textContent = shot.id;
  form.text.value = shot.text;
  form.prompt.value = shot.prompt;
  form.duration.value = shot.duration;
  fillSelect(form.camera, choices.camera, shot.camera);
  fillSelect(form.transition_kind, choices.transition, shot.transition.kind);
  form.transition_duration.value = shot.transition.duration;
  fillSelect(form.time_of_day, choices.time_of_day, shot.graph.time_of_day);
  fillSelect(form.weather, choices.weather, shot.graph.weather);
  drawPins(shot);
  const present = $("present");
  present.querySelectorAll("label").forEach((label) => label.remove());
  for (const character of plan.characters) {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = character.id;
    box.checked = shot.characters.includes(character.id);
    label.append(box, document.createTextNode(character.name));
    present.append(label);
  }
  for (const fieldset of form.querySelectorAll("fieldset.rows")) {
    const items = fieldset.querySelector(".items");
    items.replaceChildren();
    for (const item of shot.graph[fieldset.dataset.list]) addRow(fieldset, item);
  }
  $("up").disabled = selected === 0;
  $("down").disabled = selected === plan.shots.length - 1;
  $("delete").disabled = plan.shots.length === 1;
}

function drawPins(shot) {
  for (const pin of $("pins").querySelectorAll(".pin")) {
    const path = shot[pin.dataset.pin];
    const image = pin.querySelector("img");
    const name = path ? path.split(/[\\/]/).pop() : "";
    const uploaded = path && /[\\/]pinned[\\/][^\\/]+$/.test(path); // shown where the studio put it
    image.hidden = !uploaded;
    image.src = uploaded ? media(`pinned/${name}`) : "";
    image.alt = path ? `pinned ${pin.dataset.pin.replace("_", " ")}: ${name}` : "";
    pin.querySelector(".unpin").disabled = !path;
    pin.querySelector("input").value = "";
  }
}

async function pin(which, file) {
  const data = new FormData();
  if (file) data.append("image", file);
  const what = which === "keyframe" ? "first frame" : "last frame";
  if (await call("POST", `/api/shots/${selected}/pin/${which}`, data)) {
    say(file ? `Pinned the ${what} of shot #${selected + 1}.` : `Unpinned the ${what} of shot #${selected + 1}.`);
  }
}

function addRow(fieldset, item = {}) {
  const row = document.createElement("div");
  row.className = "item";
  for (const field of fieldset.dataset.fields.split(",")) {
    const input = document.createElement("input");
    input.name = field;
    input.placeholder = field;
    const value = item[field];
    input.value = Array.isArray(value) ? value.join(", ") : value ?? "";
    row.append(input);
  }
  const remove = document.createElement("button");
  remove.type = "button";
  remove.textContent = "×";
  remove.title = "remove";
  remove.addEventListener("click", () => row.remove());
  row.append(remove);
  fieldset.querySelector(".items").append(row);
}

function readRows(fieldset) {
  const numbers = new Set(["start", "end"]);
  return [...fieldset.querySelectorAll(".item")].map((row) => {
    const item = {};
    for (const input of row.querySelectorAll("input")) {
      const text = input.value.trim();
      if (input.name === "attributes") item.attributes = text ? text.split(",").map((a) => a.trim()).filter(Boolean) : [];
      else if (numbers.has(input.name)) item[input.name] = Number(text || 0);
      else if (input.name === "object" && fieldset.dataset.list === "actions") item.object = text || null;
      else item[input.name] = text;
    }
    return item;
  });
}

function editedShot() {
  const form = $("shot-editor");
  const shot = plan.shots[selected];
  const graph = { ...shot.graph, time_of_day: form.time_of_day.value, weather: form.weather.value };
  for (const fieldset of form.querySelectorAll("fieldset.rows")) graph[fieldset.dataset.list] = readRows(fieldset);
  return {
    text: form.text.value,
    prompt: form.prompt.value,
    duration: Number(form.duration.value),
    camera: form.camera.value,
    transition: { kind: form.transition_kind.value, duration: Number(form.transition_duration.value) },
    characters: [...$("present").querySelectorAll("input:checked")].map((box) => box.value),
    graph,
  };
}

function drawCharacters() {
  const list = $("characters");
  list.replaceChildren();
  const template = $("character-card");
  for (const character of plan.characters) {
    const form = template.content.firstElementChild.cloneNode(true);
    form.dataset.character = character.id;
    form.querySelector("h3").textContent = `${character.name} (${character.id})`;
    form.name.value = character.name;
    form.kind.value = character.kind;
    form.appearance.value = character.appearance;
    const voice = character.voice;
    form.querySelector(".voice").hidden = !voice && !plan.narrator; // voices exist once a film has sound
    form.voice_name.value = voice ? voice.name : "";
    form.voice_pitch.value = voice ? voice.pitch : "";
    form.voice_rate.value = voice ? voice.rate : "";
    const picture = character.reference || character.remembered; // their own, else their first keyframe
    if (picture) {
      const name = picture.split(/[\\/]/).pop();
      form.querySelector(".reference").src = media(`references/${name}`);
      form.querySelector(".reference").alt = `reference of ${character.name}`;
    }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const upload = form.reference.files[0];
      if (upload) {
        const data = new FormData();
        data.append("image", upload);
        if (!(await call("POST", `/api/characters/${encodeURIComponent(character.id)}/reference`, data))) return;
      }
      const edit = { name: form.name.value, kind: form.kind.value, appearance: form.appearance.value };
      if (character.voice) {
        edit.voice = {
          ...character.voice,
          name: form.voice_name.value,
          pitch: Number(form.voice_pitch.value),
          rate: Number(form.voice_rate.value),
        };
      }
      if (await call("POST", `/api/characters/${encodeURIComponent(character.id)}`, edit)) say(`Saved ${edit.name}.`);
    });
    list.append(form);
  }
}

// --- progress, from the same reporter the terminal shows -------------------------------------------

function listen() {
  const events = new EventSource(`/api/events?token=${encodeURIComponent(token)}`);
  events.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "stage") {
      const share = event.total ? event.done / event.total : 1;
      $("bar").style.width = `${Math.round(share * 100)}%`;
      say(`${event.name}: ${event.done} / ${event.total}`);
    } else if (event.type === "render") {
      state = { ...state, ...event, rendering: event.state === "running" };
      $("render").disabled = state.rendering;
      document.body.dataset.render = event.state;
      if (event.state === "done") {
        const made = Object.entries(event.rendered).map(([what, n]) => `${n} ${what}`).join(", ");
        $("bar").style.width = "100%";
        say(`Rendered: ${made}.`);
        mediaVersion = Date.now();
        reload(true);
      } else if (event.state === "error") {
        say(event.message, true);
      } else {
        say("Rendering…");
      }
    } else if (event.type === "hello") {
      state = { ...state, ...event };
      $("render").disabled = !!state.rendering;
    }
  };
}

async function reload(film) {
  const answer = await call("GET", "/api/plan");
  if (answer && film) loadFilm();
}

function loadFilm() {
  if (state.film) $("player").src = media(state.film);
}

// --- wiring ----------------------------------------------------------------------------------------

function wire() {
  const form = $("shot-editor");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (await call("POST", `/api/shots/${selected}`, editedShot())) say(`Saved shot #${selected + 1}.`);
  });
  for (const fieldset of form.querySelectorAll("fieldset.rows")) {
    fieldset.querySelector(".add-row").addEventListener("click", () => addRow(fieldset));
  }
  for (const box of $("pins").querySelectorAll(".pin")) {
    const input = box.querySelector("input");
    input.addEventListener("change", () => input.files[0] && pin(box.dataset.pin, input.files[0]));
    box.querySelector(".unpin").addEventListener("click", () => pin(box.dataset.pin, null));
  }
  $("split").addEventListener("click", () => call("POST", `/api/shots/${selected}/split`));
  $("delete").addEventListener("click", () => call("POST", `/api/shots/${selected}/delete`));
  $("add").addEventListener("click", async () => {
    if (await call("POST", "/api/shots/add", { after: selected })) select(selected + 1, false);
  });
  $("up").addEventListener("click", async () => {
    if (await call("POST", `/api/shots/${selected}/move`, { to: selected - 1 })) select(selected - 1, false);
  });
  $("down").addEventListener("click", async () => {
    if (await call("POST", `/api/shots/${selected}/move`, { to: selected + 1 })) select(selected + 1, false);
  });
  $("undo").addEventListener("click", () => call("POST", "/api/undo"));
  $("redo").addEventListener("click", () => call("POST", "/api/redo"));
  $("render").addEventListener("click", () => call("POST", "/api/render"));
  $("export").addEventListener("click", async () => {
    say("Exporting…");
    const answer = await call("POST", "/api/export");
    if (answer) say(`Wrote ${answer.path} in the run directory.`);
  });
}

async function start() {
  wire();
  const answer = await call("GET", "/api/plan");
  if (!answer) return;
  loadFilm();
  listen();
}

start();
