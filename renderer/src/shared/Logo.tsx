export function Logo() {
  return (
    <svg className="logo" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
      <rect x="2" y="2" width="28" height="28" rx="7" fill="currentColor" />
      <path d="M10 22V13l6-4 6 4v9h-4v-5h-4v5z" fill="#fff" />
    </svg>
  );
}
