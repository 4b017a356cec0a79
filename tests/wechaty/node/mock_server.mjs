// A Wechaty PuppetServer serving a PuppetMock world, driven by gridbot's tests.
//
//   node mock_server.mjs --port 18788 --token test-token --world world.json
//
// The world file: {"bot": {"id", "name"}, "contacts": [{"id", "name"}],
//                  "rooms": [{"id", "topic", "members": [ids], "aliases": {memberId: group nickname}}]}.
// A member's group nickname (群昵称) is served as roomAlias in the room member payload, as real puppets do
// (the stock PuppetMock never sets one).
// Room ids should contain "@" like WeChat's "...@chatroom": the stock PuppetMock tells rooms from contacts so
// (this server's text sending looks the id up instead, so config ids without "@" work for text).
// Started again with the same arguments, the server rebuilds the same world with the same ids.
//
// Control channel: newline-delimited JSON. Commands arrive on stdin as {"id": n, "cmd": ..., ...};
// each gets one answer on stdout, {"id": n, "ok": true, ...} or {"id": n, "ok": false, "error": "..."}.
// The first stdout line is {"ready": true, "port": p} once the gRPC server listens. Logs go to stderr.
//   say     {from, room?, to?, text?, mentions?: [ids], type?}   type: "text" (default), "image", "audio",
//           "video", "mini_program", "url", "emoticon", "attachment" or "unknown"
//   add     {room, member, by?}       a member joins the room (room-join event)
//   remove  {room, member, by?}       a member leaves the room (room-leave event)
//   alias   {room, member, alias}     a member sets their group nickname ("" clears it; no event, as on WeChat)
//   sent    {}                        what the bot sent: [{id, conversation, text, mentions}]
//   logout  {} / login {}             the bot's account logs out / logs in again
//   ping    {}

import fs from 'node:fs'
import readline from 'node:readline'

import * as PUPPET from 'wechaty-puppet'
import { PuppetServer } from 'wechaty-puppet-service'
import { PuppetMock, mock } from 'wechaty-puppet-mock'
import { FileBox } from 'file-box'

const MessageType = PUPPET.types.Message
const TYPES = {
  text: MessageType.Text,
  image: MessageType.Image,
  audio: MessageType.Audio,
  video: MessageType.Video,
  mini_program: MessageType.MiniProgram,
  url: MessageType.Url,
  emoticon: MessageType.Emoticon,
  attachment: MessageType.Attachment,
  unknown: MessageType.Unknown,
}
// A 1x1 PNG, so an image message has real bytes behind it.
const PIXEL_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='

function parseArgs (argv) {
  const args = { host: '127.0.0.1' }
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '')
    args[key] = argv[i + 1]
  }
  for (const key of ['port', 'token', 'world']) {
    if (!args[key]) {
      process.stderr.write(`mock_server: --${key} is required\n`)
      process.exit(2)
    }
  }
  return args
}

const args = parseArgs(process.argv.slice(2))
const world = JSON.parse(fs.readFileSync(args.world, 'utf8'))
// Message ids stay unique across restarts of the server on the same world.
const runTag = `${process.pid.toString(36)}${Date.now().toString(36)}`
let counter = 0
const nextId = (prefix) => `${prefix}-${runTag}-${++counter}`

const mocker = new mock.Mocker()
const sent = []
// roomId → (memberId → group nickname)
const aliases = new Map((world.rooms || []).map(room => [room.id, new Map(Object.entries(room.aliases || {}))]))

class HarnessPuppet extends PuppetMock {
  // Log the bot in whenever the puppet starts: clients stop and start the puppet when they connect.
  async onStart () {
    await super.onStart()
    setImmediate(() => {
      if (!this.isLoggedIn) {
        mocker.login(mocker.ContactMock.load(world.bot.id))
      }
    })
  }

  // The stock mock leaves roomAlias out; a real puppet gives the member's group nickname there.
  async roomMemberRawPayload (roomId, contactId) {
    const payload = await super.roomMemberRawPayload(roomId, contactId)
    const alias = aliases.get(roomId)?.get(contactId)
    return alias ? { ...payload, roomAlias: alias } : payload
  }

  // The stock mock answers every image with a QR code; answer with the image that was sent.
  async messageImage (messageId, imageType) {
    const json = mocker.cacheFileBoxPayload.get(messageId)
    return json ? FileBox.fromJSON(json) : super.messageImage(messageId, imageType)
  }

  // The stock mock returns no id and drops mentions; a real puppet returns the id and echoes
  // the bot's own message back as a message event, which the client must ignore.
  async messageSendText (conversationId, text, mentionIdList = []) {
    if (!this.isLoggedIn) {
      throw new Error('not logged in')
    }
    const isRoom = mocker.cacheRoomPayload.has(conversationId)
    const payload = {
      id: nextId('bot'),
      talkerId: this.currentUserId,
      timestamp: Date.now(),
      type: MessageType.Text,
      text,
      ...(isRoom
        ? { roomId: conversationId, mentionIdList: [...mentionIdList] }
        : { listenerId: conversationId }),
    }
    mocker.MessageMock.create(payload)
    sent.push({ id: payload.id, conversation: conversationId, text, mentions: [...mentionIdList] })
    this.emit('message', { messageId: payload.id })
    return payload.id
  }
}

// The stock mock returns no id for files either; record what arrived (name and bytes) like texts.
HarnessPuppet.prototype.messageSendFile = async function (conversationId, fileBox) {
  if (!this.isLoggedIn) {
    throw new Error('not logged in')
  }
  const data = await fileBox.toBuffer()
  const id = nextId('bot')
  sent.push({ id, conversation: conversationId, text: `[file] ${fileBox.name}`, mentions: [],
    file: { name: fileBox.name, size: data.length, head: data.subarray(0, 8).toString('hex') } })
  return id
}

function buildWorld () {
  const names = new Map()
  mocker.createContact({ id: world.bot.id, name: world.bot.name })
  names.set(world.bot.id, world.bot.name)
  for (const contact of world.contacts || []) {
    if (!names.has(contact.id)) {
      mocker.createContact({ id: contact.id, name: contact.name })
      names.set(contact.id, contact.name)
    }
  }
  for (const room of world.rooms || []) {
    const members = [...new Set([world.bot.id, ...(room.members || [])])]
    mocker.createRoom({ id: room.id, topic: room.topic, memberIdList: members, ownerId: members[0], adminIdList: [] })
  }
}

function say (command) {
  const talker = mocker.ContactMock.load(command.from)
  const type = command.type || 'text'
  if (type === 'text' && command.room) {
    // The stock path: ContactMock.say(text, mentions).to(room)
    const mentions = (command.mentions || []).map(id => mocker.ContactMock.load(id))
    const before = new Set(mocker.cacheMessagePayload.keys())
    talker.say(command.text, mentions).to(mocker.RoomMock.load(command.room))
    const id = [...mocker.cacheMessagePayload.keys()].find(k => !before.has(k))
    return { messageId: id }
  }
  if (!(type in TYPES)) {
    throw new Error(`unknown type ${type}`)
  }
  const payload = {
    id: nextId('msg'),
    talkerId: talker.id,
    timestamp: Date.now(),
    type: TYPES[type],
    text: command.text ?? (type === 'mini_program' ? '<msg><appmsg><title>小程序</title></appmsg></msg>' : ''),
    ...(command.room
      ? { roomId: command.room, mentionIdList: command.mentions || [] }
      : { listenerId: command.to || world.bot.id }),
  }
  if (type === 'image') {
    payload.filename = 'pixel.png'
    mocker.cacheFileBoxPayload.set(payload.id, FileBox.fromBase64(PIXEL_PNG, 'pixel.png').toJSON())
  }
  mocker.MessageMock.create(payload)
  puppet.emit('message', { messageId: payload.id })
  return { messageId: payload.id }
}

function handle (command) {
  switch (command.cmd) {
    case 'ping':
      return {}
    case 'say':
      return say(command)
    case 'add': {
      const room = mocker.RoomMock.load(command.room)
      room.add(mocker.ContactMock.load(command.member)).by(mocker.ContactMock.load(command.by || world.bot.id))
      return {}
    }
    case 'remove': {
      const room = mocker.RoomMock.load(command.room)
      room.remove(mocker.ContactMock.load(command.member)).by(mocker.ContactMock.load(command.by || command.member))
      return {}
    }
    case 'alias': {
      mocker.RoomMock.load(command.room) // throws for an unknown room
      if (!aliases.has(command.room)) aliases.set(command.room, new Map())
      if (command.alias) aliases.get(command.room).set(command.member, command.alias)
      else aliases.get(command.room).delete(command.member)
      puppet.cache.roomMember.delete(command.room) // the next payload read sees the new nickname
      return {}
    }
    case 'sent':
      return { sent }
    case 'logout':
      return puppet.logout('kicked out by the test').then(() => ({}))
    case 'login':
      mocker.login(mocker.ContactMock.load(world.bot.id))
      return {}
    default:
      throw new Error(`unknown command ${command.cmd}`)
  }
}

const puppet = new HarnessPuppet({ mocker })
buildWorld()

const server = new PuppetServer({
  endpoint: `${args.host}:${args.port}`,
  puppet,
  token: args.token,
  tls: { disable: true },
})

function reply (obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

async function main () {
  await puppet.start()
  await server.start()
  reply({ ready: true, port: Number(args.port) })

  const lines = readline.createInterface({ input: process.stdin })
  lines.on('line', (line) => {
    if (!line.trim()) return
    let command
    try {
      command = JSON.parse(line)
    } catch (e) {
      reply({ id: null, ok: false, error: `bad JSON: ${e.message}` })
      return
    }
    Promise.resolve()
      .then(() => handle(command))
      .then((result) => reply({ id: command.id, ok: true, ...result }))
      .catch((e) => reply({ id: command.id, ok: false, error: String(e && e.message || e) }))
  })
  // The test closing stdin means: shut down.
  lines.on('close', () => shutdown(0))
}

let stopping = false
async function shutdown (code) {
  if (stopping) return
  stopping = true
  try {
    await server.stop()
    await puppet.stop()
  } catch (e) {
    process.stderr.write(`mock_server: stop: ${e}\n`)
  }
  process.exit(code)
}

process.on('SIGTERM', () => shutdown(0))
process.on('SIGINT', () => shutdown(0))

main().catch((e) => {
  process.stderr.write(`mock_server: ${e && e.stack || e}\n`)
  process.exit(1)
})
