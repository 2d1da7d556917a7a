// Program: surfaces, affiliates, links, commission rules and payouts.
import { h, clear } from './dom.js';

export function program(main) {
  clear(main, h('h1', null, 'Program'), h('p', null, 'Coming with the admin lists.'));
}
