// Small, deliberate UI moves on the VS Code workbench page: open a file, hover a piece of text, run a command.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { screenshotDir } from './harness.mjs';

export async function screenshot(page, name) {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`) });
}

/**
 * Opens a quick input with `key`, types `text` and waits for a row labelled with it, or with `focused`, until the
 * focused row is: Enter picks the focused row, and in Quick Open, before the list has filtered, that can be a
 * recently opened file while the wanted one is merely listed too. Quick Open finds nothing until the workbench
 * has indexed the folder, and the palette is empty before extensions register: retry.
 */
async function quickPick(page, key, text, attempts, { focused = false } = {}) {
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('Escape');
    await page.keyboard.press(key);
    await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: 10_000 });
    await page.keyboard.type(text, { delay: 15 });
    try {
      await page.waitForSelector(`.quick-input-list .monaco-list-row${focused ? '.focused' : ''}[aria-label*="${text}"]`, { timeout: 5_000 });
      await page.keyboard.press('Enter');
      return;
    } catch (error) {
      if (attempt === attempts) throw error;
    }
  }
}

export async function openFile(page, name, waitForText) {
  await quickPick(page, 'Control+P', name, 6, { focused: true });
  if (waitForText) await page.waitForFunction((t) => [...document.querySelectorAll('.view-line')].some((l) => l.textContent.replace(/\u00a0/g, ' ').includes(t)), waitForText, { timeout: 30_000 });
}

/** The viewport point over the middle of `needle` in the visible editor lines. */
export async function pointOf(page, needle) {
  return page.evaluate((needle) => {
    for (const line of document.querySelectorAll('.monaco-editor .view-lines .view-line')) {
      const text = line.textContent.replace(/\u00a0/g, ' ');
      const at = text.indexOf(needle);
      if (at < 0) continue;
      const target = at + Math.floor(needle.length / 2);
      const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
      let offset = 0;
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const len = node.textContent.length;
        if (target < offset + len) {
          const range = document.createRange();
          range.setStart(node, target - offset);
          range.setEnd(node, target - offset + 1);
          const r = range.getBoundingClientRect();
          return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
        }
        offset += len;
      }
    }
    return null;
  }, needle);
}

/** Hovers `needle` until a hover containing `expect` shows, and returns the hover's text. */
export async function hover(page, needle, expect, { timeoutMs = 60_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const p = await pointOf(page, needle);
    if (!p) throw new Error(`"${needle}" is not on screen`);
    // Away (the activity bar, where no hover shows) and back, so a stale or sticky hover closes first.
    await page.keyboard.press('Escape');
    await page.mouse.move(10, p.y);
    await sleep(200);
    await page.mouse.move(p.x, p.y);
    try {
      const widget = page.locator('.monaco-hover:not(.hidden)').filter({ hasText: expect }).first();
      await widget.waitFor({ state: 'visible', timeout: 4000 });
      return await widget.innerText();
    } catch {
      last = await page.locator('.monaco-hover:not(.hidden)').first().innerText({ timeout: 200 }).catch(() => '');
    }
  }
  throw new Error(`no hover with "${expect}" over "${needle}"; last hover: ${last.slice(0, 500)}`);
}

export async function hoverImageSources(page) {
  return page.locator('.monaco-hover:not(.hidden) img').evaluateAll((imgs) => imgs.map((i) => i.getAttribute('src') ?? ''));
}

export async function runCommand(page, title) {
  await quickPick(page, 'F1', title, 4);
}

/**
 * Answers an open quick pick: waits for the row labelled `label`, then, when `type` is true, types it to
 * select that row; Enter accepts (in a multi-select, the preselected rows).
 */
export async function answerPick(page, label, { type = true } = {}) {
  await page.waitForSelector(`.quick-input-list .monaco-list-row[aria-label*="${label}"]`, { timeout: 30_000 });
  if (type) {
    await page.keyboard.type(label, { delay: 15 });
    await sleep(300);
  }
  await page.keyboard.press('Enter');
}

/** Accepts the value an open input box suggests, or replaces it with `text`. */
export async function answerInput(page, text) {
  await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: 10_000 });
  await sleep(300);
  if (text !== undefined) {
    await page.keyboard.press('Control+A');
    await page.keyboard.type(text);
  }
  await page.keyboard.press('Enter');
  await sleep(300);
}

/** Clicks into the editor at `needle` so the cursor sits on it. */
export async function clickOn(page, needle) {
  const p = await pointOf(page, needle);
  if (!p) throw new Error(`"${needle}" is not on screen`);
  await page.mouse.click(p.x, p.y);
}

export async function editorLineWith(page, needle) {
  return page.evaluate((needle) => {
    for (const line of document.querySelectorAll('.monaco-editor .view-lines .view-line')) {
      const text = line.textContent.replace(/\u00a0/g, ' ');
      if (text.includes(needle)) return text;
    }
    return null;
  }, needle);
}

/** The frame of the webview panel whose document holds `selector`. */
export async function webviewFrame(page, selector, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if ((await frame.locator(selector).count().catch(() => 0)) > 0) return frame;
    }
    await sleep(300);
  }
  throw new Error(`no webview shows ${selector}`);
}
