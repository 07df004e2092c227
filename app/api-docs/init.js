// OPS-1: the reference page reads the document the server builds from its own routes.
// Read-only: no "Try it out" (every state change needs our page's cookies anyway), and
// no call to Swagger's online validator.
window.addEventListener('DOMContentLoaded', () => {
  window.ui = SwaggerUIBundle({
    url: '/api/openapi.json',
    dom_id: '#swagger-ui',
    layout: 'BaseLayout',
    deepLinking: true,
    supportedSubmitMethods: [],
    validatorUrl: null,
  });
});
