import { create } from 'qrcode';
import { useMemo } from 'react';

/** A QR code drawn as SVG (one path of unit squares), built in the page: no image file, no script, no innerHTML. */
export function QrCode({ text, label, size = 184 }: { text: string; label: string; size?: number }) {
  const { path, dim } = useMemo(() => {
    const m = create(text, { errorCorrectionLevel: 'M' }).modules;
    let d = '';
    for (let y = 0; y < m.size; y++) {
      for (let x = 0; x < m.size; x++) if (m.data[y * m.size + x]) d += `M${x + 4} ${y + 4}h1v1h-1z`;
    }
    return { path: d, dim: m.size + 8 };
  }, [text]);
  return (
    <svg
      className="qr"
      role="img"
      aria-label={label}
      width={size}
      height={size}
      viewBox={`0 0 ${dim} ${dim}`}
      shapeRendering="crispEdges"
      data-testid="totp-qr"
    >
      <rect width={dim} height={dim} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}
