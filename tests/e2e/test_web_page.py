"""The chat page at `/`, driven in a real browser: Debian's headless Chromium through
chromedriver and the `selenium` package, against the real daemon on a non-default port with
SmolLM2-135M in its cache. It loads the page, picks and loads the model, sends a message and
watches the answer grow while it streams, stops a long answer mid-stream (the daemon then
stops computing), reloads and finds the conversation kept. Skipped, with the reason, only
when chromium or chromedriver is not installed (scripts/setup.sh installs both).

Screenshots go to <build dir>/test-artifacts/web/ (beside build/bin/foundry; the path is
printed); docs/images/web-*.png are copies of desktop.png and phone.png from a run."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_service import FOUNDRY, SMOLLM2, T, env_for, free_port  # noqa: E402

SMOL_ID = "SmolLM2-135M-Instruct-generic-cpu:1"
CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
ARTIFACTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(FOUNDRY))),
                         "test-artifacts", "web")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="chromium or chromedriver is not installed (bash scripts/setup.sh installs them)")


def put_in_cache(cache):
    """SmolLM2 as a cached catalog model (Foundry Local's layout), linked, not copied."""
    d = cache / "HuggingFace" / "SmolLM2-135M-Instruct-generic-cpu-1"
    d.mkdir(parents=True)
    os.symlink(SMOLLM2, d / os.path.basename(SMOLLM2))
    (d / "inference_model.json").write_text(json.dumps({"Name": SMOL_ID, "PromptTemplate": None}))


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    home = tmp_path_factory.mktemp("web-home")
    put_in_cache(home / "cache" / "models")
    env = env_for(home)
    env.pop("FOUNDRY_CACHE_DIR", None)
    env.pop("FOUNDRY_CATALOG", None)
    port = free_port()
    assert port != 8000
    log = open(home / "service.log", "wb")
    proc = subprocess.Popen([FOUNDRY, "service", "run", "--foreground", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    url = "http://127.0.0.1:%d" % port
    try:
        deadline = time.time() + 60
        while True:
            try:
                if requests.get(url + "/openai/status", timeout=2).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass
            assert time.time() < deadline and proc.poll() is None, "the service did not start"
            time.sleep(0.1)
        yield {"url": url, "pid": proc.pid, "log": home / "service.log"}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,860", "--force-prefers-reduced-motion",
                "--force-color-profile=srgb", "--hide-scrollbars"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=ChromeService(executable_path=CHROMEDRIVER),
                              options=options)
    driver.set_page_load_timeout(T)
    os.makedirs(ARTIFACTS, exist_ok=True)
    print("\nweb page screenshots: %s" % ARTIFACTS)
    yield driver
    driver.quit()


def shot(driver, name):
    path = os.path.join(ARTIFACTS, name + ".png")
    driver.save_screenshot(path)
    print("screenshot: %s" % path)


def wait(driver, seconds=T):
    return WebDriverWait(driver, seconds, poll_frequency=0.05)


def last_reply(driver):
    replies = driver.find_elements(By.CSS_SELECTOR, "#messages .message.assistant")
    return replies[-1] if replies else None


def reply_text(driver):
    return driver.execute_script(
        "const r = document.querySelectorAll('#messages .message.assistant .markdown');"
        "return r.length ? r[r.length - 1].textContent : '';")


def selected_model_label(driver):
    """The picker's shown text (read in one step: the page redraws the options)."""
    return driver.execute_script(
        "const s = document.getElementById('model');"
        "return s.selectedIndex < 0 ? '' : s.options[s.selectedIndex].textContent;")


def is_streaming(driver):
    return driver.find_element(By.ID, "stop").is_displayed()


def cpu_seconds(pid):
    """User + system CPU time of a process (its threads included), from /proc."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def set_field(driver, element_id, value):
    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(str(value))
    field.send_keys(Keys.TAB)  # 'change' fires when the field loses focus


def send(driver, text):
    box = driver.find_element(By.ID, "prompt")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def test_markdown_renderer_is_safe(service, browser):
    """Model text is rendered as nodes, never as HTML; code blocks get a copy button."""
    browser.get(service["url"] + "/")
    wait(browser).until(lambda d: d.execute_script("return !!window.FoundryMarkdown"))
    out = browser.execute_script("""
        const div = document.createElement('div');
        window.FoundryMarkdown.render(arguments[0], div);
        return {
          html: div.innerHTML,
          scripts: div.querySelectorAll('img, script, iframe').length,
          strong: div.querySelector('strong') && div.querySelector('strong').textContent,
          em: div.querySelector('em') && div.querySelector('em').textContent,
          code: div.querySelector('pre code') && div.querySelector('pre code').textContent,
          copy: div.querySelectorAll('.code-block button').length,
          items: div.querySelectorAll('ul > li').length,
          ordered: div.querySelectorAll('ol > li').length,
          heading: div.querySelector('h3') && div.querySelector('h3').textContent,
          links: Array.from(div.querySelectorAll('a')).map((a) => a.getAttribute('href')),
          inline: Array.from(div.querySelectorAll('p code')).map((c) => c.textContent),
        };""", "# Title\n\nHi <img src=x onerror=alert(1)> **bold** and *it* and "
               "snake_case_name\n\n"
               "- one\n- two\n\n1. first\n2. second\n\n```python\nprint('<b>')\n```\n\n"
               "[ok](https://example.org) [bad](javascript:alert(1)) `<script>`")
    assert out["scripts"] == 0
    assert "&lt;img" in out["html"]
    assert out["strong"] == "bold" and out["em"] == "it"
    assert "snake_case_name" in out["html"]
    assert out["code"] == "print('<b>')"
    assert out["copy"] == 1
    assert out["items"] == 2 and out["ordered"] == 2
    assert out["heading"] == "Title"
    assert out["links"] == ["https://example.org"]
    assert out["inline"] == ["<script>"]


def test_chat_stream_stop_and_reload(service, browser):
    d = browser
    d.get(service["url"] + "/")
    # Served from the binary, with a policy that allows only the page's own files.
    r = requests.get(service["url"] + "/", timeout=T)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert requests.get(service["url"] + "/web/nope.js", timeout=T).status_code == 404

    # The model picker lists the cached model with its size, not yet loaded.
    picker = wait(d).until(EC.presence_of_element_located((By.ID, "model")))
    wait(d).until(lambda d: any(o.get_attribute("value") == SMOL_ID
                                for o in Select(picker).options))
    Select(picker).select_by_value(SMOL_ID)
    label = selected_model_label(d)
    assert "smollm2-135m" in label and "94 MB" in label and "loaded" not in label

    # Deterministic answers (SmolLM2 answers this one in ~130 tokens, with code blocks).
    set_field(d, "temperature", 0)
    set_field(d, "max-tokens", 200)

    # Loading shows its progress, then the picker says loaded.
    d.find_element(By.ID, "load-model").click()
    wait(d).until(lambda d: "loaded" in selected_model_label(d))
    assert requests.get(service["url"] + "/openai/loadedmodels", timeout=T).json() == [SMOL_ID]
    assert "Loaded" in d.find_element(By.ID, "model-status-text").text

    # A message: the answer grows while it streams, then shows its stats.
    send(d, "Write a Python function that reverses a string.")
    lengths = []
    deadline = time.time() + T
    while time.time() < deadline:
        lengths.append(len(reply_text(d)))
        if lengths[-1] and not is_streaming(d):
            break
        time.sleep(0.02)
    # (Rendered text may shrink by a character when Markdown closes, e.g. a fence's last `.)
    grew = sum(1 for a, b in zip(lengths, lengths[1:]) if b > a)
    assert grew >= 3, "the answer did not grow while streaming: %s" % lengths
    assert "def reverse_string" in reply_text(d)
    code = last_reply(d).find_elements(By.CSS_SELECTOR, ".code-block pre code")
    assert code and code[0].get_attribute("data-lang") == "python"
    assert last_reply(d).find_elements(By.CSS_SELECTOR, ".code-block button.copy-code")
    stats = last_reply(d).find_element(By.CSS_SELECTOR, ".stats").text
    assert "tokens/s" in stats and "TTFT" in stats, stats
    shot(d, "desktop")

    # Phone width: the same conversation, the sidebar folded behind Menu.
    d.set_window_size(390, 844)
    time.sleep(0.3)
    assert d.find_element(By.ID, "menu-toggle").is_displayed()
    assert not d.find_element(By.ID, "sidebar").is_displayed()
    assert d.find_element(By.ID, "prompt").is_displayed()
    shot(d, "phone")
    d.find_element(By.ID, "menu-toggle").click()
    assert d.find_element(By.ID, "sidebar").is_displayed()
    shot(d, "phone-menu")
    d.find_element(By.ID, "menu-toggle").click()
    d.set_window_size(1280, 860)

    # A long answer, stopped mid-stream: the request is aborted and the daemon stops
    # computing (its CPU time stays still), the partial answer is kept.
    set_field(d, "max-tokens", 2000)
    send(d, "Write a very long and detailed essay about the history of Europe.")
    wait(d).until(lambda d: len(reply_text(d)) > 40)
    before = cpu_seconds(service["pid"])
    time.sleep(1.0)
    generating = cpu_seconds(service["pid"]) - before
    assert is_streaming(d)
    # (On a loaded 2-core machine a generation may get well under one core.)
    assert generating > 0.05, "the measure does not see a generation: %.2f CPU s" % generating
    d.find_element(By.ID, "stop").click()
    wait(d).until(lambda d: not is_streaming(d))
    stopped_text = reply_text(d)
    assert "stopped" in last_reply(d).find_element(By.CSS_SELECTOR, ".stats").text
    time.sleep(1.0)  # the daemon sees the closed connection at its next write
    before = cpu_seconds(service["pid"])
    time.sleep(2.0)
    busy = cpu_seconds(service["pid"]) - before
    print("daemon CPU: %.2f s in 1 s while generating, %.2f s in 2 s after the stop"
          % (generating, busy))
    assert busy < min(0.1, generating), \
        "the daemon still computes after the stop: %.2f CPU s in 2 s" % busy
    assert reply_text(d) == stopped_text
    shot(d, "stopped")

    # Reload: both exchanges are still there, from localStorage.
    d.refresh()
    wait(d).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#messages .message")) == 4)
    users = [e.text for e in d.find_elements(By.CSS_SELECTOR, "#messages .message.user .text")]
    assert users == ["Write a Python function that reverses a string.",
                     "Write a very long and detailed essay about the history of Europe."]
    assert reply_text(d) == stopped_text
    title = d.find_element(By.ID, "chat-title").text
    assert title == "Write a Python function that reverses a string."
    current = d.find_element(By.CSS_SELECTOR, "#conversations button[aria-current='true']")
    assert current.text == title

    # No console errors on the way (a blocked script or style would be one: the page's
    # Content-Security-Policy allows only its own files).
    severe = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, severe

    # The service still serves after the stop (the slot was freed).
    r = requests.post(service["url"] + "/v1/chat/completions", timeout=T, json={
        "model": SMOL_ID, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4})
    assert r.status_code == 200, r.text


def test_errors_are_shown_with_the_service_message(service, browser):
    """A model that is gone from the cache: the reply shows the 404's message."""
    d = browser
    d.get(service["url"] + "/")
    # The page fills the model list when /v1/models answers, replacing its options: inject the
    # missing model only after that, or the list would drop it again.
    wait(d).until(lambda d: d.execute_script(
        "return [...document.getElementById('model').options].some((o) => o.value)"))
    d.find_element(By.ID, "new-chat").click()
    d.execute_script("""
        const s = document.getElementById('model');
        const o = document.createElement('option');
        o.value = 'no-such-model'; o.textContent = 'no-such-model';
        s.appendChild(o); s.value = 'no-such-model';""")
    send(d, "Hello")
    error = wait(d).until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, "#messages .message.assistant .error")))
    assert error.get_attribute("role") == "alert"
    assert error.text.startswith("Model not found: ")
    assert "no-such-model" in error.text


FAKE_CHAT = """
    window.fakeChat = arguments[0];
    const realFetch = window.fetch;
    window.fetch = (url, init) => {
      if (url !== '/v1/chat/completions' || !window.fakeChat.length) return realFetch(url, init);
      const f = window.fakeChat.shift();
      if (f.sse) {
        const bytes = new TextEncoder();
        const stream = new ReadableStream({start(c) {
          for (const e of f.sse) c.enqueue(bytes.encode('data: ' + e + '\\n\\n'));
          c.close();
        }});
        return Promise.resolve(new Response(stream, {status: 200,
            headers: {'Content-Type': 'text/event-stream'}}));
      }
      return Promise.resolve(new Response(JSON.stringify(f.body), {status: f.status,
          headers: {'Content-Type': 'application/json'}}));
    };"""


def api_error(message, code, kind="invalid_request_error"):
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def delta(**d):
    return json.dumps({"object": "chat.completion.chunk", "choices": [
        {"index": 0, "delta": d, "finish_reason": None}]})


def last_error_text(driver):
    return wait(driver, 10).until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, "#messages .message:last-child .error"))).text


def test_busy_and_context_errors_and_folded_reasoning(service, browser):
    """Answers the service can give, fed to the page (a wrapped fetch): 503 busy, 400 context
    exceeded, and a stream with reasoning_content and tool_calls deltas."""
    d = browser
    d.get(service["url"] + "/")
    wait(d).until(lambda d: SMOL_ID in selected_model_label(d) or "smollm2" in
                  selected_model_label(d))
    d.find_element(By.ID, "new-chat").click()
    sse = [json.dumps({"choices": [{"index": 0, "delta": {"role": "assistant"}}]}),
           delta(reasoning_content="Think "), delta(reasoning_content="hard."),
           delta(content="Answer **bold**"),
           delta(tool_calls=[{"index": 0, "id": "call_1", "type": "function",
                              "function": {"name": "get_weather", "arguments": ""}}]),
           delta(tool_calls=[{"index": 0, "function": {"arguments": '{"city":'}}]),
           delta(tool_calls=[{"index": 0, "function": {"arguments": '"Paris"}'}}]),
           json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
           json.dumps({"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 7,
                                                "total_tokens": 16}}),
           "[DONE]"]
    d.execute_script(FAKE_CHAT, [
        {"status": 503, "body": api_error("the model's queue is full", "server_busy",
                                          "server_error")},
        {"status": 400, "body": api_error("the prompt has 9000 tokens but the context holds "
                                          "8192", "context_length_exceeded")},
        {"sse": sse}])
    send(d, "one")
    assert last_error_text(d) == ("The service is busy (the model's queue is full). "
                                  "Try again in a moment.")
    wait(d).until(lambda d: not is_streaming(d))
    send(d, "two")
    text = last_error_text(d)
    assert text.startswith("The conversation is longer than the model\u2019s context: "
                           "the prompt has 9000 tokens but the context holds 8192"), text
    wait(d).until(lambda d: not is_streaming(d))
    send(d, "three")
    wait(d).until(lambda d: not is_streaming(d))
    reply = last_reply(d)
    reasoning = reply.find_element(By.CSS_SELECTOR, "details.reasoning")
    assert reasoning.get_attribute("open") is None  # folded
    assert reasoning.find_element(By.TAG_NAME, "summary").text == "Reasoning"
    assert reasoning.find_element(By.TAG_NAME, "pre").get_attribute("textContent") == \
        "Think hard."
    tool = reply.find_element(By.CSS_SELECTOR, "details.tool-call")
    assert tool.get_attribute("open") is None
    assert tool.find_element(By.TAG_NAME, "summary").text == "Tool call: get_weather"
    assert tool.find_element(By.TAG_NAME, "pre").get_attribute("textContent") == \
        '{"city":"Paris"}'
    assert reply.find_element(By.CSS_SELECTOR, ".markdown strong").text == "bold"
    assert reply.find_element(By.CSS_SELECTOR, ".stats").text.startswith("7 tokens")
    # Failed replies are kept in the conversation but never sent back as history.
    d.refresh()
    wait(d).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#messages .message")) == 6)
    assert len(d.find_elements(By.CSS_SELECTOR, "#messages .error")) == 2


def test_conversations_with_the_keyboard(service, browser):
    """Rename, export and delete a conversation without the mouse."""
    d = browser
    d.get(service["url"] + "/")
    wait(d).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#conversations button"))
    before = len(d.find_elements(By.CSS_SELECTOR, "#conversations button"))
    assert before >= 2  # the earlier tests' conversations

    d.find_element(By.ID, "rename-chat").send_keys(Keys.ENTER)
    field = wait(d).until(EC.visibility_of_element_located((By.ID, "dialog-input")))
    assert d.switch_to.active_element == field
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("Renamed by keyboard", Keys.ENTER)
    wait(d).until(lambda d: d.find_element(By.ID, "chat-title").text ==
                      "Renamed by keyboard")
    assert d.switch_to.active_element == d.find_element(By.ID, "rename-chat")  # focus returns

    # Export: the JSON file the browser would save.
    d.execute_script("""
        const create = URL.createObjectURL;
        const click = HTMLAnchorElement.prototype.click;
        let blob = null;
        URL.createObjectURL = (b) => { blob = b; return create(b); };
        HTMLAnchorElement.prototype.click = function () {  // instead of saving the file
          const name = this.download;
          blob.text().then((t) => { window.exported = {name: name, text: t}; });
          URL.createObjectURL = create;
          HTMLAnchorElement.prototype.click = click;
        };""")
    d.find_element(By.ID, "export-chat").send_keys(Keys.ENTER)
    exported = wait(d).until(lambda d: d.execute_script("return window.exported"))
    assert exported["name"] == "Renamed_by_keyboard.json"
    data = json.loads(exported["text"])
    assert data["format"] == "foundry-chat/1" and data["title"] == "Renamed by keyboard"
    assert [m["role"] for m in data["messages"]][:2] == ["user", "assistant"]

    d.refresh()
    wait(d).until(lambda d: d.find_element(By.ID, "chat-title").text == "Renamed by keyboard")
    d.find_element(By.ID, "delete-chat").send_keys(Keys.ENTER)
    ok = wait(d).until(EC.visibility_of_element_located((By.ID, "dialog-ok")))
    assert d.switch_to.active_element == ok
    ok.send_keys(Keys.ENTER)
    wait(d).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#conversations button"))
                      == before - 1)
    titles = [b.text for b in d.find_elements(By.CSS_SELECTOR, "#conversations button")]
    assert "Renamed by keyboard" not in titles
    stored = json.loads(d.execute_script(
        "return localStorage.getItem('foundry.chat.conversations')"))
    assert all(c["title"] != "Renamed by keyboard" for c in stored)


def test_api_key_is_asked_once_on_401(service, browser):
    """A service that wants a key (simulated in the page: answers 401 to requests without
    `Authorization: Bearer sekret`): the page asks once, keeps the key, sends it from then on."""
    d = browser
    d.get(service["url"] + "/")
    # Let the page's own first listing finish before fetch is replaced: the check below counts
    # only the requests that the click makes.
    wait(d).until(lambda d: "smollm2-135m" in selected_model_label(d))
    d.execute_script("""
        const realFetch = window.fetch;
        window.seenAuth = [];
        window.dialogsShown = 0;
        const show = HTMLDialogElement.prototype.showModal;
        HTMLDialogElement.prototype.showModal = function () {
          window.dialogsShown++;
          return show.call(this);
        };
        window.fetch = (url, init) => {
          const auth = (init && init.headers && init.headers.Authorization) || null;
          window.seenAuth.push(auth);
          if (auth !== 'Bearer sekret') {
            return Promise.resolve(new Response(JSON.stringify({error: {
                message: 'a valid API key is required', type: 'invalid_request_error',
                param: null, code: 'invalid_api_key'}}),
              {status: 401, headers: {'Content-Type': 'application/json'}}));
          }
          return realFetch(url, init);
        };""")
    d.find_element(By.ID, "refresh-models").click()
    dialog = wait(d).until(EC.visibility_of_element_located((By.ID, "dialog")))
    assert d.find_element(By.ID, "dialog-title").text == "API key needed"
    key = d.find_element(By.ID, "dialog-input")
    assert d.switch_to.active_element == key
    key.send_keys("sekret", Keys.ENTER)
    wait(d).until(lambda d: not dialog.is_displayed())
    wait(d).until(lambda d: "smollm2-135m" in selected_model_label(d))
    assert d.execute_script("return window.dialogsShown") == 1
    seen = d.execute_script("return window.seenAuth")
    assert seen[:3] == [None, None, None] and set(seen[3:]) == {"Bearer sekret"}, seen
    assert d.find_element(By.ID, "api-key").get_attribute("value") == "sekret"
    stored = json.loads(d.execute_script("return localStorage.getItem('foundry.chat.settings')"))
    assert stored["apiKey"] == "sekret"
    d.execute_script("localStorage.clear()")
