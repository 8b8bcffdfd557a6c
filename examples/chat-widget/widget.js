/**
 * A small help-chat widget built on the ESM SDK (`@tally/sdk`), as a chat vendor would ship it.
 * No bundler: the host page maps `@tally/sdk` (and its one dependency, idb-keyval) with an
 * import map, and mounts the widget with
 *   <div id="tally-chat" data-endpoint="https://COLLECTOR" data-container="ctr_…" data-bot="bot_…"></div>
 *
 * Billing follows the conversation: `chat()` emits "start" (and a ping every minute while open),
 * the "Talk to a person" button hands off to a human (that time is not billed), "Back to the
 * bot" resumes, closing the chat ends it. Each started 15 minutes of bot time is a chat session.
 */
import { createTracker } from '@tally/sdk'

const mount = document.getElementById('tally-chat')
if (mount) start(mount)

function start(mount) {
  const { endpoint, container, bot } = mount.dataset
  const tracker = createTracker({ container, endpoint, autotrack: false })
  let conversation = null

  const launcher = h('button', { class: 'tc-launcher', 'data-chat': 'open' }, 'Need help? Chat with us')
  const log = h('div', { class: 'tc-log', role: 'log', 'aria-live': 'polite' })
  const input = h('input', { class: 'tc-input', placeholder: 'Ask about sizes, delivery, returns…', 'aria-label': 'Message' })
  const send = h('button', { type: 'submit', 'data-chat': 'send' }, 'Send')
  const handoff = h('button', { type: 'button', class: 'tc-secondary', 'data-chat': 'handoff' }, 'Talk to a person')
  const resume = h('button', { type: 'button', class: 'tc-secondary', 'data-chat': 'resume', hidden: '' }, 'Back to the bot')
  const close = h('button', { type: 'button', class: 'tc-close', 'data-chat': 'end', 'aria-label': 'End chat' }, '×')
  const form = h('form', { class: 'tc-form' }, input, send)
  const panel = h(
    'section',
    { class: 'tc-panel', hidden: '', 'aria-label': 'Help chat' },
    h('header', {}, h('strong', {}, 'Trailhead help'), close),
    log,
    form,
    h('div', { class: 'tc-actions' }, handoff, resume),
  )
  mount.append(launcher, panel)

  const say = (who, text) => {
    log.append(h('p', { class: `tc-msg tc-${who}` }, text))
    log.scrollTop = log.scrollHeight
  }
  let human = false

  launcher.addEventListener('click', () => {
    panel.hidden = false
    launcher.hidden = true
    if (!conversation) {
      // One conversation per opening of the chat; the id is the widget's own.
      conversation = tracker.chat(`conv_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`, { bot })
      say('bot', 'Hi! I am the Trailhead bot. Ask me anything, or talk to a person.')
    }
    input.focus()
  })
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const text = input.value.trim()
    if (!text) return
    say('me', text)
    input.value = ''
    if (human) setTimeout(() => say('agent', 'Thanks, let me check that for you.'), 400)
    else setTimeout(() => say('bot', answer(text)), 400)
  })
  handoff.addEventListener('click', () => {
    conversation?.handoff()
    human = true
    handoff.hidden = true
    resume.hidden = false
    say('system', 'Sam from the Trailhead team joined the chat. (Time with a person is not billed.)')
  })
  resume.addEventListener('click', () => {
    conversation?.resume()
    human = false
    resume.hidden = true
    handoff.hidden = false
    say('system', 'The bot is back.')
  })
  close.addEventListener('click', async () => {
    conversation?.end()
    conversation = null
    human = false
    panel.hidden = true
    launcher.hidden = false
    // The button that had focus is hidden now: a keyboard user goes on from the launcher.
    launcher.focus()
    log.replaceChildren()
    resume.hidden = true
    handoff.hidden = false
    await tracker.flush()
  })
  // For pages and tests that want to know every chat event reached the collector.
  window.tallyChat = { flush: () => tracker.flush() }
}

function answer(text) {
  const t = text.toLowerCase()
  if (t.includes('size')) return 'Our trail shoes run true to size. The size advisor on the page helps too.'
  if (t.includes('return')) return 'Returns are free for 60 days.'
  if (t.includes('deliver') || t.includes('ship')) return 'Orders before 15:00 ship the same day.'
  return 'Good question! A person can answer that best: press "Talk to a person".'
}

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v)
  e.append(...children)
  return e
}
