// Entry point: pick the transport (Electron bridge or WebSocket), start the app state, mount the UI.
import { mount } from 'svelte';
import App from './App.svelte';
import { createClient } from './lib/client.ts';
import { studioContext } from './lib/context.ts';
import { Studio } from './lib/studio.svelte.ts';
import { keepSettings } from './lib/keep-settings.svelte.ts';
import './app.css';

const studio = new Studio(createClient());
keepSettings(studio); // before start(): saved sizes count as typed when the model's info fills the form
studio.start();

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
mount(App, { target, context: studioContext(studio) });
window.addEventListener('beforeunload', () => studio.stop());
