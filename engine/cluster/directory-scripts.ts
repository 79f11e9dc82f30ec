/**
 * The room directory's Lua scripts. Redis runs each one atomically, so a claim, a renewal or a
 * release can never interleave with another node's. Membership is a sorted set scored by the
 * expiry time of each node's interest (Redis `TIME`, so hosts' clocks never matter): a node that
 * dies drops out on its own, and the last node to leave deletes every key of the room.
 *
 * KEYS of every room script: [1] owner (string "nodeId epoch", PX lease), [2] members (zset),
 * [3] started flag, [4] instance (the id of this room's life: it outlives every owner, and a room
 * of the same name made after it was destroyed has another). ARGV[1] is the calling node's id.
 */

const NOW_MS = `
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** Refreshes the caller's membership and the room's keys' safety expiry (ARGV[3] ms). */
const REFRESH_MEMBER = `
redis.call('ZADD', KEYS[2], nowMs + tonumber(ARGV[3]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', nowMs)
redis.call('PEXPIRE', KEYS[2], ARGV[3])
if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('PEXPIRE', KEYS[3], ARGV[3]) end
if redis.call('EXISTS', KEYS[4]) == 1 then redis.call('PEXPIRE', KEYS[4], ARGV[3]) end
`;

/**
 * Claim: when nobody holds the room, the caller becomes its owner for ARGV[2] ms with a fresh
 * epoch from the global counter KEYS[5] (INCR: every new owner of any room gets a higher number
 * than every owner before it, so a stale owner's epoch can never come back). The counter is
 * first raised to ARGV[5], the highest epoch the caller has seen: a Redis restarted empty starts
 * it again from 0, and a new owner's epoch would otherwise be lower than a stale one's. ARGV[4] is the
 * instance the caller's section belongs to (or a fresh one it proposes): the room takes it when
 * it has none yet (it is new, or Redis lost it), and when the destroyed marker KEYS[6] names it
 * the room is not made again. Returns {owner value, 1 if the caller just claimed it, 1 if the
 * room has started, the room's instance, 1 if that instance was destroyed}.
 */
export const CLAIM_SCRIPT = `${NOW_MS}
if redis.call('GET', KEYS[6]) == ARGV[4] then return {'', 0, 0, ARGV[4], 1} end
${REFRESH_MEMBER}
local instance = redis.call('GET', KEYS[4])
if not instance then
  instance = ARGV[4]
  redis.call('SET', KEYS[4], instance, 'PX', ARGV[3])
end
local owner = redis.call('GET', KEYS[1])
local claimed = 0
if not owner then
  if tonumber(redis.call('GET', KEYS[5]) or '0') < tonumber(ARGV[5]) then redis.call('SET', KEYS[5], ARGV[5]) end
  owner = ARGV[1] .. ' ' .. redis.call('INCR', KEYS[5])
  redis.call('SET', KEYS[1], owner, 'PX', ARGV[2])
  claimed = 1
end
return {owner, claimed, redis.call('EXISTS', KEYS[3]), instance, 0}
`;

/** Renew: only the holder of owner value ARGV[4] extends its lease (compare-and-pexpire). 1 or 0. */
export const RENEW_SCRIPT = `${NOW_MS}
if redis.call('GET', KEYS[1]) ~= ARGV[4] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
${REFRESH_MEMBER}
return 1
`;

/**
 * Leave: the caller's section of the room is gone. Its lease (owner value ARGV[2], or '') is
 * released so a survivor can claim at once; when no live member remains, every key goes.
 * Returns 1 when the room was removed from the directory.
 */
export const LEAVE_SCRIPT = `${NOW_MS}
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] ~= '' and redis.call('GET', KEYS[1]) == ARGV[2] then redis.call('DEL', KEYS[1]) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', nowMs)
if redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
  return 1
end
return 0
`;

/**
 * Destroy: a destroyOnExit party left instance ARGV[1] of the room. The marker KEYS[5] names it
 * for ARGV[2] ms, so a node that missed the event (it was away from Redis, or Redis lost the
 * room) closes its section at its next claim instead of making the room again; the room's keys
 * go if they are still that instance's; the event ARGV[4] goes out on channel ARGV[3].
 */
export const DESTROY_SCRIPT = `
redis.call('SET', KEYS[5], ARGV[1], 'PX', ARGV[2])
if redis.call('GET', KEYS[4]) == ARGV[1] then redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4]) end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
`;

/** Remove node: deletes the heartbeat KEYS[1] only if it holds ARGV[1] (the caller's incarnation, as written in it). 1 or 0. */
export const REMOVE_NODE_SCRIPT = `
local value = redis.call('GET', KEYS[1])
if value and string.find(value, ARGV[1], 1, true) then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * A room's announcement floor: KEYS[1] the node sounding now (PX ARGV[2] ms), KEYS[2] the node
 * next in line (the same expiry). The caller (ARGV[1]) takes the floor when nobody holds it and
 * nobody else is next; its holder's call renews it. A caller refused becomes next in line when
 * nobody else is, so a node that sounds again and again cannot keep a waiting one out: it must
 * let the next one have its turn first. Returns 1 when the caller holds the floor.
 */
export const TAKE_FLOOR_SCRIPT = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
local nextNode = redis.call('GET', KEYS[2])
if not holder and (not nextNode or nextNode == ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  if nextNode then redis.call('DEL', KEYS[2]) end
  return 1
end
if not nextNode or nextNode == ARGV[1] then redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2]) end
return 0
`;

/** Gives up the caller's (ARGV[1]) hold of the floor KEYS[1] and its place next in line KEYS[2]. */
export const RELEASE_FLOOR_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1
`;

/**
 * A wrong PIN for a room, counted across the cluster as PinLockout counts it in one engine:
 * KEYS[1] the times of the room's wrong PINs in the window (zset scored by Redis `TIME`, members
 * ARGV[4], unique), KEYS[2] the room's lock. ARGV[1] wrong PINs in ARGV[2] ms lock the room for
 * ARGV[3] ms; while it is locked nothing is counted, so the lock lapses on time. Both keys expire
 * with their window or lock, and the zset never holds more than ARGV[1] members. Returns 0
 * (counted), 1 (this one locked the room) or 2 (the room was locked already).
 */
export const WRONG_PIN_SCRIPT = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 2 end
${NOW_MS}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', nowMs - tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], nowMs, ARGV[4])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
return 1
`;
