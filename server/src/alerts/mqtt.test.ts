import { describe, expect, it } from 'vitest';
import { topicMatches } from './mqtt.ts';

describe('MQTT topic filters', () => {
  it.each([
    ['a/b', 'a/b', true],
    ['a/b', 'a/b/c', false],
    ['a/+/c', 'a/x/c', true],
    ['a/+/c', 'a/x/y/c', false],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['#', 'anything/at/all', true],
    ['#', '$SYS/broker', false],
    ['+/b', '$SYS/b', false],
    ['a/+', 'a', false],
  ])('%s matches %s: %s', (filter, topic, want) => {
    expect(topicMatches(filter, topic)).toBe(want);
  });
});
