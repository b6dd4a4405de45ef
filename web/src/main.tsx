import { render } from 'preact';
import { App } from './app/App.js';
import { Chat } from './state/chat.js';
import './styles.css';

const chat = new Chat();
render(<App chat={chat} />, document.getElementById('app') as HTMLElement);
chat.boot();
