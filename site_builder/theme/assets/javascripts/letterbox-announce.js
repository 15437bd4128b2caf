/* Material for MkDocs 9.8 partials/javascripts/announce.html, as a file for the Content-Security-Policy. */
var el=document.querySelector("[data-md-component=announce]");if(el){var content=el.querySelector(".md-typeset");__md_hash(content.innerHTML)===__md_get("__announce")&&(el.hidden=!0)}
