# The platform image: Node 24 runs the TypeScript sources directly (type stripping).
FROM node:24-bookworm-slim
# fonts-wqy-microhei: the Chinese glyphs of the PDF reports (reports.pdfFont).
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg ca-certificates fonts-wqy-microhei && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY server/package.json server/
COPY client/package.json client/
COPY streams/package.json streams/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:client
ENV CCC_SERVER__HOST=0.0.0.0
EXPOSE 8080
USER node
CMD ["node", "server/src/main.ts"]
