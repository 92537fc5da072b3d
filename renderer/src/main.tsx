import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './components/App.tsx';
import { connectEvents } from './store/events.ts';
import { useAuthStore } from './store/auth.ts';
import './shared/styles.css';

connectEvents();
void useAuthStore.getState().init();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
