import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { AppState } from '../state/app-state.js';
import type { Chat } from '../state/chat.js';
import { useSelector } from '../state/store.js';

export const ChatContext = createContext<Chat | null>(null);

export function useChat(): Chat {
  const chat = useContext(ChatContext);
  if (!chat) throw new Error('useChat outside <ChatContext.Provider>');
  return chat;
}

/** Reads a slice of the app state; the component re-renders when that slice changes. */
export function useApp<T>(select: (s: AppState) => T): T {
  return useSelector(useChat().store, select);
}
