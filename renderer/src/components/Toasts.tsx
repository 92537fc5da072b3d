import { uiSelectors, useUiStore } from '../store/ui.ts';

export function Toasts() {
  const toasts = useUiStore(uiSelectors.toasts);
  return (
    <div className="toasts" role="status" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast ${t.kind}`}>
          <div>
            <strong>{t.title}</strong>
            {t.body && <p>{t.body}</p>}
          </div>
          <button type="button" className="icon" aria-label="Dismiss" onClick={() => useUiStore.getState().dismissToast(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
